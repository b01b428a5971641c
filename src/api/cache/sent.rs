//! How a cached body goes out: a slice at a time. actix copies each piece a body
//! yields into the connection's write buffer, and asks for the next once that
//! buffer has drained; a 7 MB body yielded whole was copied for each of 64 readers
//! at once (278 MiB), where in slices of the one shared copy each reader holds a
//! slice.

use std::convert::Infallible;
use std::io::{Cursor, Read};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use flate2::read::GzDecoder;

/// How much is sent at a time.
const SLICE: usize = 64 * 1024;

/// A shared body, sent in slices of itself (no copy).
pub struct Slices(pub Bytes);

impl MessageBody for Slices {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0.len() as u64)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let rest = &mut self.get_mut().0;
        Poll::Ready((!rest.is_empty()).then(|| Ok(rest.split_to(SLICE.min(rest.len())))))
    }
}

/// A gzipped body sent as its plain bytes, inflated a slice at a time: for a client
/// that does not accept gzip, without the whole plain body in memory.
pub struct Inflating {
    plain_length: u64,
    decoder: GzDecoder<Cursor<Bytes>>,
}

impl Inflating {
    /// `gzip`, which inflates to `plain_length` bytes.
    pub fn new(gzip: Bytes, plain_length: u64) -> Self {
        Self {
            plain_length,
            decoder: GzDecoder::new(Cursor::new(gzip)),
        }
    }
}

impl MessageBody for Inflating {
    type Error = std::io::Error;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.plain_length)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let decoder = &mut self.get_mut().decoder;
        let mut slice = vec![0; SLICE];
        let mut filled = 0;
        while filled < SLICE {
            match decoder.read(&mut slice[filled..]) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(error) => return Poll::Ready(Some(Err(error))),
            }
        }
        slice.truncate(filled);
        Poll::Ready((filled > 0).then(|| Ok(Bytes::from(slice))))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use actix_web::body::{self, BodySize, MessageBody};
    use actix_web::web::Bytes;

    use super::{Inflating, SLICE, Slices};
    use crate::api::middleware::compression;

    fn plain() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|n| (n % 251).to_be_bytes())
            .collect()
    }

    #[actix_web::test]
    async fn slices_are_the_body_in_order_with_its_length() {
        let plain = plain();
        let body = Slices(Bytes::from(plain.clone()));
        assert_eq!(body.size(), BodySize::Sized(plain.len() as u64));
        let mut body = std::pin::pin!(body);
        let first = std::future::poll_fn(|cx| body.as_mut().poll_next(cx)).await;
        assert_eq!(first.map(|piece| piece.map(|p| p.len())), Some(Ok(SLICE)));
        let sent = body::to_bytes(Slices(Bytes::from(plain.clone()))).await;
        assert_eq!(sent.map(|b| b.to_vec()), Ok(plain));
    }

    #[actix_web::test]
    async fn an_inflating_body_is_the_plain_bytes_with_their_length() {
        let plain = plain();
        let mut encoder = compression::encoder(Vec::new());
        encoder.write_all(&plain).expect("gzip");
        let gzip = Bytes::from(encoder.finish().expect("gzip"));
        let body = Inflating::new(gzip, plain.len() as u64);
        assert_eq!(body.size(), BodySize::Sized(plain.len() as u64));
        let sent = body::to_bytes(body).await.expect("a body");
        assert_eq!(sent.as_ref(), plain.as_slice());
    }
}
