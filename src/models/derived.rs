//! What is derived from the rows across tables, kept up to date by the operations
//! that change them: goals' codes and plan order ([`goal_codes`]), dense positions
//! among siblings ([`positions`]), a goal's status and progress from its updates
//! and measures ([`goal_status`]), where a measure stands ([`standing`]), and the
//! progress of plans and areas rolled up from their goals ([`progress`]). Each
//! reads [`super::tables`] and the schema, never an operation, so that parents
//! and children both call down into it instead of into each other.

pub mod goal_codes;
pub mod goal_status;
pub mod positions;
pub mod progress;
pub mod standing;
