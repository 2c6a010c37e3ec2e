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
        expect![[r#"
            trace 00000000000000000000000000000054  5 spans  100.0 ms
              0   api GET /x                         |========================================| 0.0..100.0
              1     cache get                        |    ====                                | 10.0..20.0
              2       redis GET                      |    ===                                 | 12.0..18.0
              3     db SELECT                        |                ========                | 40.0..60.0
              4     db INSERT                        |                            ########    | 70.0..90.0 !err
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  2 spans  100.0 ms
              0   api GET /x                         |========================================| 0.0..100.0
              1     db SELECT                        |    ============                        | 10.0..40.0
            ! duplicate_span_merged: Span 0000000000000062 "SELECT" (db) arrived 2 times as identical copies; merged into one row.
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  2 spans  100.0 ms
              0   api GET /x                         |========================================| 0.0..100.0
              1     db SELECT                        |    ============                        | 10.0..40.0 exc=1
            ! duplicate_span_merged: Span 0000000000000062 "SELECT" (db) arrived 2 times as fragments; merged into one row.
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  4 spans  100.0 ms
              0   api GET /x                         |========================================| 0.0..100.0
              1     db SELECT                        |    ============                        | 10.0..40.0
              2       db lock                        |                    =                   | 51.0..52.0
              3     db UPDATE                        |                    ====                | 50.0..60.0
            ! duplicate_span_kept: Span id 0000000000000062 is used by 2 spans whose name differs; kept as separate rows (children attach to the first).
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  5 spans  100.0 ms
              0   frontend POST /checkout            |========================================| 0.0..100.0
              1   checkout missing parent            |    ================================    | 10.0..90.0 (placeholder)
              2     checkout POST /api               |    ================================    | 10.0..90.0
              3       checkout validate              |    ====                                | 12.0..20.0
              4     checkout GET /stock              |            ====                        | 30.0..40.0
              5   payments missing parent            |                    ========            | 50.0..70.0 (placeholder)
              6     payments POST /charge            |                    ========            | 50.0..70.0
            ! missing_parent: 2 span(s) name parent 00000000676f6e65, which is not in the trace: "POST /api" (checkout), "GET /stock" (checkout); shown under a "missing parent" row.
            ! missing_parent: 1 span(s) name parent 000000006c6f7374, which is not in the trace: "POST /charge" (payments); shown under a "missing parent" row.
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  4 spans  60.0 ms
              0   api a                              |==========================              | 0.0..40.0
              1     api b                            |      ==============                    | 10.0..30.0
              2       api child                      |          ===                           | 15.0..20.0
              3   api self                           |                                 =======| 50.0..60.0
            ! cycle: Parent links form a cycle through 2 span(s) (0000000000000061 -> 0000000000000062); broken at span 0000000000000061 "a" (api), shown as a top-level row.
            ! cycle: Parent links form a cycle through 1 span(s) (0000000000000063); broken at span 0000000000000063 "self" (api), shown as a top-level row.
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000054  4 spans  100.0 ms
              0   api GET /x                         |========================================| 0.0..100.0
              1     db no-times                      |=                                       | 0.0..0.0
              2     db no-start                      |                =                       | 40.0..40.0
              3     db backwards                     |                    =                   | 50.0..50.0
            ! end_before_start: Span 0000000000004c32 "backwards" (db) ends 40.000 ms before it starts; its end was set to its start.
            ! missing_start_time: Span 0000000000004c33 "no-start" (db) has no start time; drawn as an instant at its end.
            ! missing_start_time: Span 0000000000004c34 "no-times" (db) has no start time; drawn as an instant at the trace's start.
        "#]],
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
        expect![[r#"
            trace 00000000000000000000000000000041  1 spans  10.0 ms
              0   api GET /a                         |========================================| 0.0..10.0
            ! mixed_trace_ids: The input held spans of 2 trace ids; they are shown as separate traces, this one is 00000000000000000000000000000041.
            trace 00000000000000000000000000000042  2 spans  15.0 ms
              0   api GET /b                         |========================================| 0.0..15.0
              1     db SELECT                        |  ===                                   | 1.0..2.0
            ! mixed_trace_ids: The input held spans of 2 trace ids; they are shown as separate traces, this one is 00000000000000000000000000000042.
        "#]],
    );
}
