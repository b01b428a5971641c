//! The migrations apply, roll back and apply again, and `src/schema.rs` describes
//! exactly the tables they make.

use std::collections::BTreeSet;

use diesel::{Connection, QueryableByName, RunQueryDsl};
use diesel_migrations::MigrationHarness;
use strategy_tracker::db::{self, MIGRATIONS, SetupConnection};
use uuid::Uuid;

use crate::common::{admin_sql, database_url};

#[derive(QueryableByName, Debug)]
struct Column {
    #[diesel(sql_type = diesel::sql_types::Text)]
    table_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    column_name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    data_type: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    is_nullable: String,
}

/// `table.column Type` for every column, as information_schema describes them.
fn columns(conn: &mut SetupConnection) -> BTreeSet<String> {
    diesel::sql_query(
        "SELECT table_name::text, column_name::text, \
                CASE data_type WHEN 'ARRAY' THEN udt_name::text ELSE data_type::text END AS data_type, \
                is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'",
    )
    .load::<Column>(conn)
    .expect("information_schema is readable")
    .into_iter()
    .map(|c| {
        let diesel_type = match c.data_type.as_str() {
            "uuid" => "Uuid",
            "text" => "Text",
            "date" => "Date",
            "integer" => "Int4",
            "smallint" => "Int2",
            "bigint" => "Int8",
            "boolean" => "Bool",
            "bytea" => "Bytea",
            "jsonb" => "Jsonb",
            "double precision" => "Float8",
            "_int4" => "Array<Int4>",
            "_text" => "Array<Text>",
            "timestamp with time zone" => "Timestamptz",
            other => panic!("no diesel type is mapped for {other}"),
        };
        let sql_type = if c.is_nullable == "YES" {
            format!("Nullable<{diesel_type}>")
        } else {
            diesel_type.to_owned()
        };
        format!("{}.{} {sql_type}", c.table_name, c.column_name)
    })
    .collect()
}

/// `table.column Type` for every column `src/schema.rs` declares.
fn declared_columns() -> BTreeSet<String> {
    let schema = include_str!("../../src/schema.rs");
    let mut table = "";
    let mut declared = BTreeSet::new();
    for line in schema.lines().map(str::trim) {
        if let Some((name, _)) = line.split_once(" (") {
            table = name;
        } else if let Some((column, sql_type)) = line.split_once(" -> ") {
            declared.insert(format!(
                "{table}.{column} {}",
                sql_type.trim_end_matches(',')
            ));
        }
    }
    declared
}

#[test]
fn migrations_apply_roll_back_and_apply_again_and_match_the_schema() {
    let name = format!("strategy_tracker_migrations_{}", Uuid::now_v7().simple());
    let url = database_url(&name);

    db::prepare(&db::Connector::new(&url, None).expect("a valid URL"))
        .expect("the migrations apply to a new database");
    let mut conn = SetupConnection::establish(&url).expect("the new database accepts connections");
    let applied = columns(&mut conn);
    conn.revert_all_migrations(MIGRATIONS)
        .expect("every migration rolls back");
    let reverted = columns(&mut conn);
    conn.run_pending_migrations(MIGRATIONS)
        .expect("the migrations apply again");
    let reapplied = columns(&mut conn);
    drop(conn);
    admin_sql(format!("DROP DATABASE \"{name}\" WITH (FORCE)"));

    assert_eq!(
        applied,
        declared_columns(),
        "src/schema.rs must match the migrations"
    );
    assert!(
        reverted.is_empty(),
        "down.sql leaves tables behind: {reverted:?}"
    );
    assert_eq!(reapplied, applied);
}
