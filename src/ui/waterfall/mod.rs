//! The waterfall's pure logic: view state in the URL, visible rows, bar geometry, pin clusters.
//!
//! No DOM and no signals here, so all of it is unit-tested natively; components in `ui::pages::trace`
//! call these functions.

pub mod filter;
pub mod geometry;
pub mod rows;
pub mod state;
