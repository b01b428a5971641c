//! The token a client sends: `stk_`, then the token's id and a 256-bit secret, both
//! base64url. The id finds the stored token; the secret is checked against the
//! SHA-256 kept for it, in constant time, so that how long a wrong token takes to
//! refuse says nothing about how close it came.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// What every token starts with, so that secret scanners (and people) recognise one.
pub const PREFIX: &str = "stk_";
/// Characters of a token: the prefix, 22 for the id and 43 for the secret.
pub const LENGTH: usize = PREFIX.len() + ID_CHARS + SECRET_CHARS;
const ID_CHARS: usize = 22;
const SECRET_CHARS: usize = 43;

/// The SHA-256 of a token's secret, as stored.
pub type SecretDigest = [u8; 32];

/// A token as a client holds it.
pub struct TokenSecret {
    pub id: Uuid,
    secret: [u8; 32],
}

impl TokenSecret {
    /// A new token: a random id and 256 random bits from the operating system.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut id = [0; 16];
        let mut secret = [0; 32];
        getrandom::fill(&mut id)?;
        getrandom::fill(&mut secret)?;
        Ok(Self {
            id: uuid::Builder::from_random_bytes(id).into_uuid(),
            secret,
        })
    }

    /// Reads a token as sent; the error says what is wrong with its form.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or("a token starts with \"stk_\"; copy the whole token as it was shown when it was created")?;
        if text.len() != LENGTH {
            return Err(
                "a token is 69 characters long; copy the whole token as it was shown when it was created",
            );
        }
        let (id, secret) = rest.split_at(ID_CHARS);
        let id: [u8; 16] = decode(id)?;
        Ok(Self {
            id: Uuid::from_bytes(id),
            secret: decode(secret)?,
        })
    }

    /// The digest the database keeps instead of the secret.
    pub fn digest(&self) -> SecretDigest {
        Sha256::digest(self.secret).into()
    }

    /// Whether this token's secret is the one `stored` is the digest of.
    pub fn matches(&self, stored: &SecretDigest) -> bool {
        same_in_constant_time(&self.digest(), stored)
    }
}

impl std::fmt::Display for TokenSecret {
    /// The token as it is shown, once, to whoever created it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{PREFIX}{}{}",
            URL_SAFE_NO_PAD.encode(self.id.as_bytes()),
            URL_SAFE_NO_PAD.encode(self.secret)
        )
    }
}

fn decode<const N: usize>(text: &str) -> Result<[u8; N], &'static str> {
    if !text.bytes().all(is_token_byte) {
        return Err(
            "a token has only letters, digits, \"-\" and \"_\" after \"stk_\"; copy the whole token as it was shown when it was created",
        );
    }
    URL_SAFE_NO_PAD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or("this is not a token this service issued; copy the whole token as it was shown when it was created")
}

/// Whether `byte` may appear in a token after its prefix (base64url).
pub fn is_token_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// Compares every byte whatever the first difference, so the time taken does not
/// depend on where two digests differ.
fn same_in_constant_time(a: &SecretDigest, b: &SecretDigest) -> bool {
    let difference = a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_reads_back_and_matches_only_its_own_digest() {
        let token = TokenSecret::generate().expect("the OS has randomness");
        let text = token.to_string();
        assert_eq!(text.len(), LENGTH);
        assert!(text.starts_with(PREFIX));
        let read = TokenSecret::parse(&text).expect("a generated token parses");
        assert_eq!(read.id, token.id);
        assert!(read.matches(&token.digest()));
        let other = TokenSecret::generate().expect("the OS has randomness");
        assert!(!read.matches(&other.digest()));
        assert_ne!(other.to_string(), text, "two tokens are never the same");
    }

    #[test]
    fn malformed_tokens_are_told_what_is_wrong() {
        let good = TokenSecret::generate().expect("randomness").to_string();
        let cases = [
            (good.replacen("stk_", "sk_", 1), "starts with"),
            (good[..LENGTH - 1].to_owned(), "69 characters"),
            (format!("{good}A"), "69 characters"),
            (format!("{}!{}", &good[..10], &good[11..]), "only letters"),
        ];
        for (text, told) in cases {
            let error = TokenSecret::parse(&text).err().expect("refused");
            assert!(error.contains(told), "{text}: {error}");
        }
    }

    #[test]
    fn digests_compare_equal_only_when_every_byte_is() {
        let a = [7; 32];
        let mut b = a;
        assert!(same_in_constant_time(&a, &b));
        b[31] ^= 1;
        assert!(!same_in_constant_time(&a, &b));
    }
}
