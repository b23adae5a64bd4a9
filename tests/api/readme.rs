//! The README's compatibility table must say exactly what the code serves.

use trent::model::Operation;

#[test]
fn compatibility_table_matches_the_dispatcher() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table = readme
        .split("## Compatibility")
        .nth(1)
        .expect("a Compatibility section");
    let mut listed = 0;
    for line in table.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (Some(name), Some(status)) = (cells.get(1), cells.get(2)) else {
            continue;
        };
        let Some(op) = Operation::from_name(name) else {
            continue;
        };
        listed += 1;
        let served = trent::api::served().any(|s| s == op);
        assert_eq!(*status == "done", served, "README says {status} for {name}");
    }
    assert_eq!(listed, Operation::ALL.len(), "every operation has a row");
}
