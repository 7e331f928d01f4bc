//! Running futures together on any executor (the scenarios run on every binding's), without
//! a dependency for two functions.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;

/// Runs `a` and `b` together, on any executor, and returns both results.
pub async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut left, mut right) = (None, None);
    poll_fn(|cx| {
        if left.is_none()
            && let Poll::Ready(value) = a.as_mut().poll(cx)
        {
            left = Some(value);
        }
        if right.is_none()
            && let Poll::Ready(value) = b.as_mut().poll(cx)
        {
            right = Some(value);
        }
        match (left.take(), right.take()) {
            (Some(l), Some(r)) => Poll::Ready((l, r)),
            (l, r) => {
                (left, right) = (l, r);
                Poll::Pending
            }
        }
    })
    .await
}

/// Runs all `futures` together, on any executor, and returns their results in order.
pub async fn all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut results: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        for (future, result) in futures.iter_mut().zip(&mut results) {
            if result.is_none()
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *result = Some(value);
            }
        }
        match results.iter().all(Option::is_some) {
            true => Poll::Ready(
                results
                    .iter_mut()
                    .map(|r| r.take().expect("ready"))
                    .collect(),
            ),
            false => Poll::Pending,
        }
    })
    .await
}

/// Runs `main` to its end, on any executor, polling `background` alongside it (which is
/// dropped unfinished when `main` ends); returns `main`'s result.
pub async fn alongside<M: Future, B: Future>(main: M, background: B) -> M::Output {
    let (mut main, mut background) = (pin!(main), pin!(background));
    let mut background_done = false;
    poll_fn(|cx| {
        if !background_done {
            background_done = background.as_mut().poll(cx).is_ready();
        }
        main.as_mut().poll(cx)
    })
    .await
}
