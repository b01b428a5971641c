// Drive the live service through the generated TypeScript client (openapi-generator's
// typescript-fetch). Usage: node generated/dist/scenario.js [BASE_URL]; the default is
// $STRATEGY_TRACKER_URL, the service root (e.g. http://127.0.0.1:8080), since the document's
// paths already start with /api/v1. A write token comes from $STRATEGY_TRACKER_TOKEN.
// Exits non-zero on the first mismatch.
import {
  AreasApi,
  Configuration,
  FetchError,
  GoalsApi,
  GoalStatus,
  PlansApi,
  PlanStatus,
  ProblemFromJSON,
  ResponseError,
  StatusUpdatesApi,
} from "./generated";

// Node's globals without depending on @types/node, which this directory does not install.
declare const process: {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode?: number;
};

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

// The client takes a Date for a `date` field and writes its local calendar day: build the
// Date from local parts, as new Date("2022-09-01") is UTC midnight, the day before west of UTC.
const day = (year: number, month: number, date: number) => new Date(year, month - 1, date);

async function main(): Promise<void> {
  const basePath = process.argv[2] ?? process.env.STRATEGY_TRACKER_URL;
  if (!basePath) throw new Error("usage: scenario.js BASE_URL (or set STRATEGY_TRACKER_URL)");
  const token = process.env.STRATEGY_TRACKER_TOKEN;
  if (!token) throw new Error("set STRATEGY_TRACKER_TOKEN to a token with the write scope");

  // Without a token a write is refused with a 401 problem document.
  try {
    await new PlansApi(new Configuration({ basePath })).createPlan({
      planInput: { title: "Without a token", periodStart: day(2022, 9, 1), periodEnd: day(2025, 8, 31) },
    });
    throw new Error("a plan was created without a token");
  } catch (e) {
    if (!(e instanceof ResponseError) || e.response.status !== 401) throw e;
    const problem = ProblemFromJSON(await e.response.json());
    console.log(`without a token: 401 as expected: ${problem.detail}`);
  }

  // The document's bearer scheme makes the generated client send the token.
  const config = new Configuration({ basePath, accessToken: token });
  const plans = new PlansApi(config);
  const areas = new AreasApi(config);
  const goals = new GoalsApi(config);
  const updates = new StatusUpdatesApi(config);

  const plan = await plans.createPlan({
    planInput: {
      title: "SDK scenario (TypeScript)",
      periodStart: day(2022, 9, 1),
      periodEnd: day(2025, 8, 31),
      status: PlanStatus.Active,
      approvedBy: "Core Board of Directors",
    },
  });
  console.log(`created plan ${plan.id} (${plan.status})`);

  const area = await areas.createArea({ planId: plan.id, areaInput: { title: "Member Engagement" } });
  console.log(`created area ${area.id} at position ${area.position}`);

  const goal = await goals.createGoal({
    areaId: area.id,
    goalInput: { title: "Develop overall member engagement and public relations campaign" },
  });
  const sub = await goals.createGoal({
    areaId: area.id,
    goalInput: {
      title: "Create a cohesive marketing plan",
      parentGoalId: goal.id,
      owner: "Marketing Committee",
    },
  });
  console.log(`created goal ${goal.code} ${goal.id} and sub-goal ${sub.code} ${sub.id}`);

  const update = await updates.createStatusUpdate({
    goalId: sub.id,
    statusUpdateInput: {
      status: GoalStatus.OnTrack,
      progressPercent: 40,
      note: "Draft plan shared with the board",
      author: "Core staff",
      asOf: day(2024, 3, 31),
    },
  });
  console.log(`posted status update ${update.id}: ${update.status}, ${update.progressPercent}%`);

  // One goal per page, so the cursor is followed at least twice.
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await goals.listPlanGoals({ planId: plan.id, limit: 1, cursor });
    pages += 1;
    check(page.items.length <= 1, `page ${pages} has ${page.items.length} goals with limit=1`);
    seen.push(...page.items.map((g) => `${g.id} ${g.code}`));
    if (!page.nextCursor) break; // null on the last page
    check(pages < 10, "pagination does not end");
    cursor = page.nextCursor;
  }
  console.log(`listed the plan's goals over ${pages} pages: ${seen.map((s) => s.split(" ")[1]).join(", ")}`);
  const expected = [`${goal.id} 1`, `${sub.id} 1.1`];
  check(
    JSON.stringify(seen) === JSON.stringify(expected),
    `expected goals 1 then 1.1, each once, got ${JSON.stringify(seen)}`,
  );

  const read = await goals.getGoal({ goalId: sub.id });
  console.log(`read sub-goal back: ${read.status}, ${read.progressPercent}%`);
  check(
    read.status === update.status && read.progressPercent === update.progressPercent,
    `sub-goal has ${read.status}/${read.progressPercent}, the update said ${update.status}/${update.progressPercent}`,
  );

  // A rule the types cannot express. typescript-fetch throws ResponseError for any non-2xx;
  // the body is the document's Problem schema, read with the generated ProblemFromJSON.
  try {
    await plans.createPlan({
      planInput: { title: "Ends before it starts", periodStart: day(2025, 9, 1), periodEnd: day(2025, 8, 31) },
    });
    throw new Error("a plan ending before it starts was accepted");
  } catch (e) {
    if (!(e instanceof ResponseError) || e.response.status !== 422) throw e;
    const problem = ProblemFromJSON(await e.response.json());
    const fields = (problem.errors ?? []).map((fe) => fe.field);
    console.log(`got 422 as expected: ${problem.title}; fields ${JSON.stringify(fields)}`);
    check(problem.status === 422, `problem status is ${problem.status}`);
    check(fields.includes("period_end"), `the problem's errors do not name period_end: ${fields}`);
  }

  await plans.deletePlan({ planId: plan.id, cascade: true });
  console.log(`deleted plan ${plan.id} with everything in it`);
  console.log("OK: TypeScript SDK scenario passed");
}

main().catch(async (e: unknown) => {
  // The client's own error messages say nothing; show the status and problem document,
  // or the network error underneath.
  if (e instanceof ResponseError) {
    console.error(`FAIL: ${e.response.status} from ${e.response.url}: ${await e.response.text()}`);
  } else if (e instanceof FetchError) {
    console.error(`FAIL: ${e.cause} (${e.cause.cause ?? "no detail"})`);
  } else {
    console.error(`FAIL: ${e instanceof Error ? e.message : e}`);
  }
  process.exitCode = 1;
});
