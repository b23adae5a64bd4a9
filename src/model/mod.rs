//! The domain: identifiers, enumerations, keys and the key state machine.

pub mod custom_key_store;
pub mod enums;
pub mod grant;
pub mod ids;
pub mod import_token;
pub mod key;
pub mod key_policy;
pub mod multi_region;
pub mod operation;
pub mod spec;
pub mod state;
pub mod timed;

pub use enums::{
    DataKeyPairSpec, EncryptionAlgorithm, KeyAgreementAlgorithm, KeyManager, KeySpec, KeyState,
    KeyUsage, MacAlgorithm, MaterialState, MessageType, Origin, SigningAlgorithm,
};
pub use ids::{Accepts, KeyRef, Scope};
pub use key::{Key, Tag};
pub use operation::Operation;
