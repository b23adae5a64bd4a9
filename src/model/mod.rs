//! The domain: identifiers, enumerations, keys and the key state machine.

pub mod enums;
pub mod ids;
pub mod key;
pub mod operation;
pub mod state;

pub use enums::{KeyManager, KeySpec, KeyState, KeyUsage, Origin, Wire};
pub use ids::{Accepts, KeyRef, Scope};
pub use key::{Key, Tag};
pub use operation::Operation;
