//! Futures waiting for a change. Each holds a slot, given back when the future is dropped
//! (see [`Waiting`](crate::shared::Waiting)): abandoned futures leave nothing behind, and any
//! number of futures can wait without anyone being woken only to make room.

use std::task::Waker;

/// The wakers of the futures waiting for one kind of change.
#[derive(Debug, Default)]
pub(crate) struct Wakers {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Wakers {
    /// Sets the waker of the future holding `slot`, taking a slot if it has none.
    pub(crate) fn register(&mut self, slot: &mut Option<usize>, waker: &Waker) {
        let index = *slot.get_or_insert_with(|| {
            self.free.pop().unwrap_or_else(|| {
                self.slots.push(None);
                self.slots.len() - 1
            })
        });
        if let Some(entry) = self.slots.get_mut(index)
            && !entry.as_ref().is_some_and(|w| w.will_wake(waker))
        {
            *entry = Some(waker.clone());
        }
    }

    /// Gives `slot` back: its future is gone.
    pub(crate) fn release(&mut self, slot: usize) {
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = None;
            self.free.push(slot);
        }
    }

    /// Wakes every waiting future; each registers again if it still waits.
    pub(crate) fn wake_all(&mut self) {
        for waker in self.slots.iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }

    /// Whether any future waits to be woken.
    pub(crate) fn any(&self) -> bool {
        self.slots.iter().any(Option::is_some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn any_number_wait_and_slots_are_reused() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut wakers = Wakers::default();
        let mut slots = vec![None; 1000];
        for slot in &mut slots {
            wakers.register(slot, &waker);
        }
        // Registering again keeps the slot, and nobody is woken to make room.
        wakers.register(&mut slots[0], &waker);
        assert_eq!(count.0.load(Ordering::Relaxed), 0);
        assert_eq!(slots[0], Some(0));
        wakers.wake_all();
        assert_eq!(count.0.load(Ordering::Relaxed), 1000);
        assert!(!wakers.any());
        for slot in slots.iter().flatten() {
            wakers.release(*slot);
        }
        let mut again = None;
        wakers.register(&mut again, &waker);
        assert!(again.is_some_and(|s| s < 1000), "a released slot is reused");
        assert_eq!(wakers.slots.len(), 1000);
    }
}
