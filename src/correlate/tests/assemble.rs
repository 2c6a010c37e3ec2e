//! Assembly: pre-order, sibling order, and every repair with its diagnostic.

use expect_test::expect;

use super::check_assemble;

#[test]
fn pre_order_siblings_by_start() {
    check_assemble(
        "
api GET /x 0..100
  db SELECT 40..60
  cache get 10..20
    redis GET 12..18
  db INSERT 70..90 !err
",
        expect![[r#""#]],
    );
}

#[test]
fn identical_copies_are_merged() {
    check_assemble(
        "
api GET /x 0..100 #a
  db SELECT 10..40 #b
  db SELECT 10..40 #b
",
        expect![[r#""#]],
    );
}

#[test]
fn fragments_are_merged() {
    check_assemble(
        "
api GET /x 0..100 #a attr http.status=500
  db SELECT 10..40 #b ^a attr db.system=postgres
  db SELECT 10..40 #b ^a exc Timeout: statement timeout @39
",
        expect![[r#""#]],
    );
}

#[test]
fn conflicting_duplicates_are_kept_apart() {
    check_assemble(
        "
api GET /x 0..100 #a
  db SELECT 10..40 #b
  db UPDATE 50..60 #b
    db lock 51..52
",
        expect![[r#""#]],
    );
}

#[test]
fn orphans_hang_under_a_missing_parent_row() {
    check_assemble(
        "
frontend POST /checkout 0..100 #root
checkout POST /api 10..90 ^gone
  checkout validate 12..20
checkout GET /stock 30..40 ^gone
payments POST /charge 50..70 ^lost
",
        expect![[r#""#]],
    );
}

#[test]
fn cycles_are_broken_at_the_earliest_span() {
    check_assemble(
        "
api a 10..50 #a ^b
api b 20..40 #b ^a
  api child 25..30
api self 60..70 #c ^c
",
        expect![[r#""#]],
    );
}

#[test]
fn end_before_start_and_missing_start() {
    check_assemble(
        "
api GET /x 0..100
  db backwards 50..10
  db no-start ?..40
  db no-times ?..?
",
        expect![[r#""#]],
    );
}

#[test]
fn several_trace_ids_are_split() {
    check_assemble(
        "
api GET /a 0..10 %A
api GET /b 5..20 %B
  db SELECT 6..7 %B
",
        expect![[r#""#]],
    );
}
