//! Reusable components: the header with the lookup box, the theme toggle.

pub mod header;
pub mod theme;
