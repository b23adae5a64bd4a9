//! The README's compatibility table lists every operation, each served (the dispatch
//! table, `api::route`, is an exhaustive match: an operation without a handler does not
//! compile).

use trent::model::Operation;

#[test]
fn compatibility_table_lists_every_operation_as_done() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("## Compatibility")
        .nth(1)
        .expect("a Compatibility section");
    let mut listed = Vec::new();
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(name), Some(status)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Some(op) = Operation::from_name(name) else {
            continue;
        };
        assert_eq!(*status, "done", "README says {status} for {name}");
        listed.push(op);
    }
    for op in Operation::ALL {
        assert!(listed.contains(op), "README has no row for {}", op.name());
    }
}
