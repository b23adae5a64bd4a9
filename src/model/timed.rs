//! The work AWS does on a key on its own schedule: the end of a deletion window,
//! automatic rotation, the expiry of imported material, a new replica or a primary-Region
//! change settling. Each event's date is derived from
//! the key's own fields, so the store's schedule can be rebuilt from the keys at start-up,
//! and [`catch_up`] applies whatever has fallen due, in date order, exactly once.

use super::enums::{KeySpec, KeyState, MaterialState, Origin, RotationType};
use super::key::Key;
use super::state;
use crate::clock::Timestamp;
use crate::crypto::{Material, SecretKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    Deletion,
    Settle,
    Rotation,
    Expiry,
}

/// When each of the key's pending events falls due.
pub fn due_dates(key: &Key) -> impl Iterator<Item = (Timestamp, Event)> {
    let deletion = (key.state == KeyState::PendingDeletion)
        .then_some(key.deletion_date)
        .flatten()
        .map(|at| (at, Event::Deletion));
    let settle = key.settles.map(|(at, _)| (at, Event::Settle));
    // AWS rotates only enabled keys; a key enabled again after its date rotates at once.
    // Replicas receive their primary's rotations and never rotate on their own.
    let rotation = key
        .rotation
        .filter(|_| key.state == KeyState::Enabled && !key.is_replica())
        .map(|r| (r.next, Event::Rotation));
    let expiry = key
        .materials
        .iter()
        .filter(|m| m.key().is_some())
        .filter_map(|m| m.valid_to)
        .min()
        .map(|at| (at, Event::Expiry));
    [deletion, settle, rotation, expiry].into_iter().flatten()
}

/// What catching up did to a key.
#[derive(Debug)]
pub enum Outcome {
    Unchanged,
    Changed(Box<Key>),
    Deleted,
}

/// The key as it is at `now`, once every event due by then has happened in date order
/// (a clock moved three years ahead rotates a yearly key three times).
pub fn catch_up(key: &Key, now: Timestamp) -> Outcome {
    let mut changed: Option<Key> = None;
    loop {
        let current = changed.as_ref().unwrap_or(key);
        let Some((at, event)) = due_dates(current).filter(|(at, _)| *at <= now).min() else {
            break;
        };
        let mut next = current.clone();
        match event {
            Event::Deletion => return Outcome::Deleted,
            Event::Settle => {
                // A key scheduled for deletion meanwhile stays scheduled.
                if let Some((_, state)) = next.settles.take()
                    && matches!(next.state, KeyState::Creating | KeyState::Updating)
                {
                    next.state = state;
                    state::settle(&mut next);
                }
            }
            Event::Rotation => rotate_automatically(&mut next, at),
            Event::Expiry => expire(&mut next, at),
        }
        changed = Some(next);
    }
    changed.map_or(Outcome::Unchanged, |k| Outcome::Changed(Box::new(k)))
}

fn rotate_automatically(key: &mut Key, at: Timestamp) {
    let Some(mut rotation) = key.rotation else {
        return;
    };
    rotation.next = at.plus_days(rotation.period_days);
    key.rotation = Some(rotation);
    // Only symmetric keys of AWS_KMS origin can have automatic rotation turned on.
    if key.spec == KeySpec::SymmetricDefault && key.origin == Origin::AwsKms {
        let material = Material::new(
            SecretKey::generate(KeySpec::SymmetricDefault),
            at,
            MaterialState::Current,
        );
        key.rotate_to(material, at, RotationType::Automatic);
    }
}

/// Imported material whose ValidTo has passed loses its bytes (material still pending
/// rotation, not yet the key's for good, goes entirely); a key left without usable
/// material goes back to PendingImport.
fn expire(key: &mut Key, at: Timestamp) {
    let expired = |m: &Material| m.valid_to.is_some_and(|v| v <= at);
    key.materials
        .retain(|m| !(m.state == MaterialState::PendingRotation && expired(m)));
    for m in &mut key.materials {
        if expired(m) {
            m.remove_key();
        }
    }
    state::settle(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scope;
    use crate::model::key::AutoRotation;

    const DAY: i64 = 86_400_000;

    fn key() -> Key {
        let mut key = Key::for_test(
            &Scope::new("111122223333", "us-east-1"),
            "k",
            KeyState::Enabled,
        );
        key.materials.push(Material::new(
            SecretKey::generate(KeySpec::SymmetricDefault),
            Timestamp(0),
            MaterialState::Current,
        ));
        key
    }

    #[test]
    fn a_late_catch_up_rotates_once_per_period_passed() {
        let mut k = key();
        k.rotation = Some(AutoRotation {
            period_days: 90,
            next: Timestamp(90 * DAY),
        });
        let Outcome::Changed(k) = catch_up(&k, Timestamp(365 * DAY)) else {
            panic!("expected rotations");
        };
        // Days 90, 180, 270, 360; the next is on day 450.
        assert_eq!(k.materials.len(), 5);
        assert_eq!(k.rotation.unwrap().next, Timestamp(450 * DAY));
        let current = k.current_material().unwrap();
        assert_eq!(
            current.rotated,
            Some((Timestamp(360 * DAY), RotationType::Automatic))
        );
        assert!(matches!(
            catch_up(&k, Timestamp(365 * DAY)),
            Outcome::Unchanged
        ));
    }

    #[test]
    fn a_disabled_key_does_not_rotate() {
        let mut k = key();
        k.state = KeyState::Disabled;
        k.rotation = Some(AutoRotation {
            period_days: 90,
            next: Timestamp(DAY),
        });
        assert!(matches!(
            catch_up(&k, Timestamp(400 * DAY)),
            Outcome::Unchanged
        ));
    }

    #[test]
    fn expired_material_sends_the_key_back_to_pending_import() {
        let mut k = key();
        k.origin = Origin::External;
        k.materials[0].valid_to = Some(Timestamp(DAY));
        let Outcome::Changed(k) = catch_up(&k, Timestamp(DAY)) else {
            panic!("expected expiry");
        };
        assert_eq!(k.state, KeyState::PendingImport);
        assert!(!k.has_material());
        assert_eq!(k.materials.len(), 1, "the entry and its id stay");
    }

    #[test]
    fn a_replica_scheduled_for_deletion_while_creating_stays_scheduled() {
        let mut k = key();
        k.state = KeyState::PendingDeletion;
        k.deletion_date = Some(Timestamp(7 * DAY));
        k.settles = Some((Timestamp(1_000), KeyState::Enabled));
        let Outcome::Changed(k) = catch_up(&k, Timestamp(DAY)) else {
            panic!("expected the settle event to pass");
        };
        assert_eq!(k.state, KeyState::PendingDeletion);
        assert!(k.settles.is_none());
        assert!(matches!(catch_up(&k, Timestamp(7 * DAY)), Outcome::Deleted));
    }

    #[test]
    fn expired_material_pending_rotation_goes_entirely() {
        let mut k = key();
        k.origin = Origin::External;
        let mut pending = Material::new(
            SecretKey::generate(KeySpec::SymmetricDefault),
            Timestamp(0),
            MaterialState::PendingRotation,
        );
        pending.valid_to = Some(Timestamp(DAY));
        k.materials.push(pending);
        let Outcome::Changed(k) = catch_up(&k, Timestamp(DAY)) else {
            panic!("expected expiry");
        };
        assert_eq!(k.materials.len(), 1);
        assert_eq!(
            k.state,
            KeyState::Enabled,
            "the current material is untouched"
        );
    }

    #[test]
    fn deletion_comes_first_when_due() {
        let mut k = key();
        k.state = KeyState::PendingDeletion;
        k.deletion_date = Some(Timestamp(DAY));
        assert!(matches!(catch_up(&k, Timestamp(DAY)), Outcome::Deleted));
        assert!(matches!(
            catch_up(&k, Timestamp(DAY - 1)),
            Outcome::Unchanged
        ));
    }
}
