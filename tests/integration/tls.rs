//! TLS to PostgreSQL and secrets kept out of sight: `sslmode=require` against the
//! local cluster, and `verify-ca` / `verify-full` against a cluster of the test's
//! own whose certificate is signed by a CA the test makes (with `openssl`), which
//! asks for a password over TLS only. Refusals are checked as an operator sees
//! them: the real binary's exit status and its one line, which names the setting
//! and never the password.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use actix_web::http::Method;
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use serde_json::json;

use crate::common::{TestApp, anonymous_client, send, start, test_config};

/// The password of the test's own cluster: no output may contain it.
const PASSWORD: &str = "s3cret-tls-pw";

/// The test's own PostgreSQL cluster: TLS with a certificate for `localhost` only,
/// signed by `ca`; `wrong_ca` signed nothing of it. Started once per test process.
struct TlsCluster {
    port: u16,
    ca: PathBuf,
    wrong_ca: PathBuf,
}

impl TlsCluster {
    /// `postgres://postgres:PASSWORD@HOST:PORT/strategy_tracker?QUERY`.
    fn url(&self, host: &str, query: &str) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@{host}:{}/strategy_tracker?{query}",
            self.port
        )
    }
}

/// Makes the certificates, then initialises and starts the cluster as the owner
/// the binaries accept (initdb refuses root, so as root that is `postgres`). It
/// stops and is removed by a watchdog once this process is gone.
fn cluster() -> &'static TlsCluster {
    static CLUSTER: OnceLock<TlsCluster> = OnceLock::new();
    CLUSTER.get_or_init(|| {
        let bin = postgres_bin();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("strategy-tracker-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the cluster");
        let as_root = run(Command::new("id").arg("-u")).trim() == "0";
        if as_root {
            run(Command::new("chown").args(["postgres:postgres"]).arg(&dir));
        }
        let script = r#"
            set -eu
            dir=$1 bin=$2 port=$3 watched=$4 password=$5
            cd "$dir"
            ca() {
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                    -keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=strategy-tracker test $1" \
                    -addext basicConstraints=critical,CA:TRUE \
                    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
            }
            ca ca
            ca wrong-ca
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
            printf '%s\n' subjectAltName=DNS:localhost basicConstraints=CA:FALSE \
                extendedKeyUsage=serverAuth >server.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
                -out server.crt -days 2 -extfile server.ext 2>/dev/null
            chmod 600 server.key
            printf '%s\n' "$password" >pwfile
            "$bin/initdb" -D data -U postgres --pwfile=pwfile -E UTF8 >/dev/null
            printf '%s\n' 'local all all trust' \
                'hostssl all all 127.0.0.1/32 scram-sha-256' \
                'hostssl all all ::1/128 scram-sha-256' >data/pg_hba.conf
            "$bin/pg_ctl" -D data -l postgres.log -w -t 30 -o "-p $port -k $dir \
                -c listen_addresses=localhost -c ssl=on -c ssl_cert_file=$dir/server.crt \
                -c ssl_key_file=$dir/server.key -c fsync=off" start >/dev/null
            (
                while [ -d "/proc/$watched" ]; do sleep 1; done
                "$bin/pg_ctl" -D data -m immediate stop
                rm -rf "$dir"
            ) </dev/null >/dev/null 2>&1 &
        "#;
        let mut command = if as_root {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--", "sh"]);
            command
        } else {
            Command::new("sh")
        };
        command
            .args(["-c", script, "sh"])
            .arg(&dir)
            .arg(&bin)
            .arg(port.to_string())
            .arg(std::process::id().to_string())
            .arg(PASSWORD);
        run(&mut command);
        TlsCluster {
            port,
            ca: dir.join("ca.crt"),
            wrong_ca: dir.join("wrong-ca.crt"),
        }
    })
}

/// The newest of Debian's PostgreSQL binaries; the test fails, not skips, without.
fn postgres_bin() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<u32> = std::fs::read_dir(root)
        .expect("PostgreSQL's binaries under /usr/lib/postgresql (scripts/ensure-postgres)")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    let version = versions.last().expect("a PostgreSQL version installed");
    root.join(version.to_string()).join("bin")
}

/// Runs `command`, which must succeed; its standard output.
fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The real binary run with these settings (and nothing inherited of ours).
fn binary(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strategy-tracker"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_CA_FILE")
        .env_remove("RUST_LOG")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

/// The one line a failed run printed; fails unless it failed with exactly one
/// line, no panic and no password.
fn refusal(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it worked: {stderr}");
    assert!(
        !stderr.contains(PASSWORD) && !stdout.contains(PASSWORD),
        "the password is shown: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "it panicked: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "not one line: {stderr}");
    lines[0].to_owned()
}

/// `migrate` against the test's cluster with this URL and CA file: its output.
fn migrate(url: &str, ca_file: Option<&Path>) -> Output {
    let ca = ca_file.map(|path| path.display().to_string());
    let mut env = vec![("DATABASE_URL", url)];
    if let Some(ca) = &ca {
        env.push(("DATABASE_CA_FILE", ca));
    }
    binary(&["migrate"], &env)
}

fn assert_migrates(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "refused: {stderr}");
    assert!(
        !stderr.contains(PASSWORD),
        "the password is shown: {stderr}"
    );
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    count: i64,
}

#[actix_web::test]
async fn sslmode_require_serves_reads_and_writes_over_tls() {
    let app = TestApp::spawn_with(|config| config.database_url.push_str("?sslmode=require")).await;
    app.get("/readyz").await.expect(200);
    let plan = app.create_plan(json!({ "title": "Encrypted plan" })).await;
    let read = app
        .get(&format!(
            "/api/v1/plans/{}",
            plan["id"].as_str().expect("an id")
        ))
        .await
        .expect(200);
    assert_eq!(read["title"], "Encrypted plan");
    // Every connection of the service's pool to its database is encrypted.
    let name = app
        .database
        .url()
        .rsplit('/')
        .next()
        .expect("a name")
        .to_owned();
    let mut conn = crate::helpers::connect(&app).await;
    let counts: Vec<Count> = diesel_async::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT count(*) FILTER (WHERE NOT s.ssl) AS count FROM pg_stat_activity a \
             JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
        )
        .bind::<Text, _>(&name),
        &mut conn,
    )
    .await
    .expect("the counts");
    assert_eq!(
        counts[0].count, 0,
        "a connection of the service is not encrypted"
    );
}

#[test]
fn verify_full_accepts_the_right_ca_and_host_name() {
    let cluster = cluster();
    // Migrating goes through the set-up connection; the sslrootcert way of naming the CA.
    let url = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={}", cluster.ca.display()),
    );
    assert_migrates(&migrate(&url, None));
    // The pool and the LISTEN connection: the service is ready on that database.
    let mut config = test_config(cluster.url("localhost", "sslmode=verify-full"));
    config.database_ca_file = Some(cluster.ca.clone());
    actix_web::rt::System::new().block_on(async {
        let (address, server) = start(&config);
        for path in ["/readyz", "/api/v1/plans"] {
            let client = anonymous_client();
            send(&client, &address, Method::GET, path, None, Vec::new())
                .await
                .expect(200);
        }
        server.stop(false).await;
    });
    // The system's roots do not include the test's CA; the password stays hidden.
    let message = refusal(&migrate(
        &cluster.url("localhost", "sslmode=verify-full"),
        None,
    ));
    assert!(message.contains("UnknownIssuer"), "{message}");
}

#[test]
fn verify_full_refuses_a_certificate_of_another_ca() {
    let cluster = cluster();
    let url = cluster.url("localhost", "sslmode=verify-full");
    let message = refusal(&migrate(&url, Some(&cluster.wrong_ca)));
    assert!(message.contains("not signed by a trusted CA"), "{message}");
    assert!(
        message.contains("DATABASE_CA_FILE") && message.contains("sslrootcert"),
        "{message}"
    );
    assert!(
        message.contains("postgres://postgres:***@localhost:"),
        "{message}"
    );
    // verify-ca checks the chain as well.
    let url = cluster.url("localhost", "sslmode=verify-ca");
    let message = refusal(&migrate(&url, Some(&cluster.wrong_ca)));
    assert!(message.contains("sslmode=verify-ca"), "{message}");
}

#[test]
fn verify_full_refuses_a_host_the_certificate_does_not_name() {
    let cluster = cluster();
    let url = cluster.url("127.0.0.1", "sslmode=verify-full");
    let message = refusal(&migrate(&url, Some(&cluster.ca)));
    assert!(message.contains("does not name this host"), "{message}");
    assert!(message.contains("sslmode=verify-full"), "{message}");
    // verify-ca does not check the name, and require with a CA is verify-ca (libpq).
    assert_migrates(&migrate(
        &cluster.url("127.0.0.1", "sslmode=verify-ca"),
        Some(&cluster.ca),
    ));
    assert_migrates(&migrate(
        &cluster.url("127.0.0.1", "sslmode=require"),
        Some(&cluster.ca),
    ));
    let message = refusal(&migrate(
        &cluster.url("127.0.0.1", "sslmode=require"),
        Some(&cluster.wrong_ca),
    ));
    assert!(message.contains("not signed by a trusted CA"), "{message}");
}

#[test]
fn a_wrong_password_or_no_tls_is_one_line_without_the_password() {
    let cluster = cluster();
    let wrong = cluster
        .url("localhost", "sslmode=require")
        .replace(PASSWORD, "not-the-password");
    let output = binary(&["serve"], &[("DATABASE_URL", &wrong)]);
    let message = refusal(&output);
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
    // The cluster lets nobody in without TLS.
    let message = refusal(&migrate(&cluster.url("localhost", "sslmode=disable"), None));
    assert!(message.contains("no encryption"), "{message}");
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:{port}/st?sslmode=require");
    let message = refusal(&binary(&["serve"], &[("DATABASE_URL", &url)]));
    assert!(message.contains("cannot prepare the database"), "{message}");
    assert!(
        message.contains(&format!("postgres://app:***@127.0.0.1:{port}/")),
        "{message}"
    );
    assert!(message.contains("Connection refused"), "{message}");
}

#[test]
fn bad_tls_settings_name_the_setting() {
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:1/st?sslmode=verify");
    let message = refusal(&binary(&["migrate"], &[("DATABASE_URL", &url)]));
    assert!(
        message.contains("DATABASE_URL: sslmode must be one of"),
        "{message}"
    );
    let url = format!("postgres://app:{PASSWORD}@127.0.0.1:1/st?sslmode=verify-ca");
    let output = binary(
        &["migrate"],
        &[("DATABASE_URL", &url), ("DATABASE_CA_FILE", "/no/such.pem")],
    );
    assert!(refusal(&output).contains("DATABASE_CA_FILE: cannot read /no/such.pem"));
}

#[test]
fn help_shows_no_password() {
    let url = format!("postgres://app:{PASSWORD}@db.example.org/st");
    let output = binary(&["--help"], &[("DATABASE_URL", &url)]);
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(help.contains("DATABASE_URL"), "{help}");
    assert!(!help.contains(PASSWORD), "{help}");
}

#[test]
fn the_url_can_come_from_a_file() {
    let cluster = cluster();
    let file = std::env::temp_dir().join(format!(
        "strategy-tracker-url-{}",
        uuid::Uuid::now_v7().simple()
    ));
    std::fs::write(
        &file,
        format!("{}\n", cluster.url("localhost", "sslmode=verify-full")),
    )
    .expect("the file is written");
    let ca = cluster.ca.display().to_string();
    let path = file.display().to_string();
    let output = binary(
        &["migrate"],
        &[("DATABASE_URL_FILE", &path), ("DATABASE_CA_FILE", &ca)],
    );
    assert_migrates(&output);
    // The file's URL is the one used (not the default): its password is checked,
    // and the wrong one is not shown either.
    let wrong = cluster
        .url("localhost", "sslmode=verify-full")
        .replace(PASSWORD, "not-the-password");
    std::fs::write(&file, wrong).expect("the file is written");
    let output = binary(
        &["migrate"],
        &[("DATABASE_URL_FILE", &path), ("DATABASE_CA_FILE", &ca)],
    );
    std::fs::remove_file(&file).expect("the file is removed");
    let message = refusal(&output);
    assert!(
        message.contains("password authentication failed"),
        "{message}"
    );
    assert!(
        message.contains(&format!("@localhost:{}/", cluster.port)),
        "{message}"
    );
    assert!(!message.contains("not-the-password"), "{message}");
    // Gone, it is one line naming the setting and the file; a settings error (2).
    let output = binary(&["migrate"], &[("DATABASE_URL_FILE", &path)]);
    let message = refusal(&output);
    assert!(
        message.contains(&format!("DATABASE_URL_FILE: cannot read {path}")),
        "{message}"
    );
    assert_eq!(output.status.code(), Some(2));
}
