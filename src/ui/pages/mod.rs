//! Pages, one per route.

pub mod home;
pub mod not_found;
pub mod resolve;
pub mod snapshot;
pub mod trace;
