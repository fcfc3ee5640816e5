//! The tables cannot drift from the import schemas: on both stores, every field of every
//! import type has its column, of its type, in each table its row model writes it to (and in
//! that table's history), and every summary table has the columns its rollup refreshes.

mod common;

use common::*;
use ebay_import_map::{FieldType, RowModel, Target, SCHEMAS};
use std::collections::HashMap;

/// The tables a field is stored in.
fn tables_of(model: &RowModel, target: Target) -> Vec<&'static str> {
    match (model, target) {
        (RowModel::EbayOrders { orders, .. }, Target::Primary) => vec![orders],
        (RowModel::EbayOrders { items, .. }, Target::Line) => vec![items],
        (RowModel::EbayOrders { orders, items }, Target::Both) => vec![orders, items],
        (RowModel::Keyed(k), _) => vec![k.table],
    }
}

/// The column type each store declares for a field type.
fn declared(env: &Env, ty: FieldType) -> &'static str {
    match (env.is_postgres(), ty) {
        (true, FieldType::Money) => "numeric",
        (true, FieldType::Date) => "date",
        (true, FieldType::DateTime) => "timestamp without time zone",
        (true, FieldType::Bool) => "boolean",
        (true, FieldType::Integer { .. }) => "bigint",
        (true, _) => "text",
        (false, FieldType::Bool | FieldType::Integer { .. }) => "INTEGER",
        (false, _) => "TEXT",
    }
}

/// The columns of a table and their declared types (on SQLite their affinity: a history
/// table made by `CREATE TABLE … AS SELECT` declares `INT` where its table says `INTEGER`).
fn columns_of(env: &Env, table: &str) -> HashMap<String, String> {
    let sql = if env.is_postgres() {
        format!(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}'"
        )
    } else {
        format!("SELECT name, type FROM pragma_table_info('{table}')")
    };
    env.rows(&sql)
        .into_iter()
        .map(|r| {
            let declared = r[1].clone().unwrap_or_default();
            let ty = match env.is_postgres() {
                true => declared,
                false if declared.to_uppercase().contains("INT") => "INTEGER".into(),
                false => declared.to_uppercase(),
            };
            (r[0].clone().expect("a column name"), ty)
        })
        .collect()
}

/// The declared type of a column, `None` when the table has no such column.
fn column_type<'a>(
    env: &Env,
    tables: &'a mut HashMap<String, HashMap<String, String>>,
    table: &str,
    column: &str,
) -> Option<&'a String> {
    tables
        .entry(table.to_string())
        .or_insert_with(|| columns_of(env, table))
        .get(column)
}

#[test]
fn every_field_has_its_column_of_its_type_in_its_tables_and_their_history() {
    for env in Env::each_store("schema_contract") {
        env.run(&["migrate"]).expect_code(0);
        let mut checked = 0;
        let mut tables = HashMap::new();
        for schema in SCHEMAS {
            for field in schema.fields {
                for table in tables_of(&schema.row_model, field.target) {
                    let want = declared(&env, field.ty);
                    for t in [table.to_string(), format!("{table}_history")] {
                        let got = column_type(&env, &mut tables, &t, field.name);
                        assert_eq!(
                            got.map(String::as_str),
                            Some(want),
                            "{}: {}.{} of type {:?} ({} field)",
                            env.store_name(),
                            t,
                            field.name,
                            field.ty,
                            schema.name
                        );
                        checked += 1;
                    }
                }
            }
            for rollup in schema.rollups {
                let mut columns: Vec<(&str, &str)> =
                    [rollup.key_column, rollup.first, rollup.last, rollup.count]
                        .iter()
                        .map(|c| (rollup.table, *c))
                        .collect();
                for (column, sources) in rollup.latest {
                    columns.push((rollup.table, column));
                    columns.extend(sources.iter().map(|s| (rollup.source, *s)));
                }
                for (table, column) in columns {
                    assert!(
                        column_type(&env, &mut tables, table, column).is_some(),
                        "{}: {table}.{column}",
                        env.store_name(),
                    );
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }
}
