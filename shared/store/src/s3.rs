//! S3 adapter: conditional writes with `If-None-Match: *` and `If-Match: <etag>`.

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use crate::{Condition, Etag, Object, ObjectStore, StoreError};

/// The largest buffer reserved up front from a response's Content-Length (SES mail is at most
/// 40 MB); a larger object still reads, growing the buffer.
const MAX_PREALLOCATION: i64 = 64 << 20;

/// Objects in one bucket, optionally under a key prefix.
#[derive(Debug, Clone)]
pub struct S3ObjectStore {
    client: Client,
    bucket: String,
    prefix: String,
}

impl S3ObjectStore {
    /// A store over an existing client.
    pub fn new(client: Client, bucket: impl Into<String>, prefix: Option<&str>) -> Self {
        S3ObjectStore {
            client,
            bucket: bucket.into(),
            prefix: prefix.unwrap_or("").to_string(),
        }
    }

    /// Build the client from shared AWS config. Path-style addressing is turned on only when an
    /// endpoint override is set (`AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_S3`, e.g. moto), because
    /// local endpoints cannot serve virtual-host buckets.
    pub fn from_conf(
        conf: &aws_config::SdkConfig,
        bucket: impl Into<String>,
        prefix: Option<&str>,
    ) -> Self {
        let overridden =
            conf.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let s3 = aws_sdk_s3::config::Builder::from(conf)
            .force_path_style(overridden)
            .build();
        Self::new(Client::from_conf(s3), bucket, prefix)
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn status<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
    e.raw_response().map(|r| r.status_u16())
}

trait HttpStatus {
    fn status_u16(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_u16(&self) -> u16 {
        self.status().as_u16()
    }
}

fn conditional<E>(key: &str, e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = e.as_service_error().and_then(|s| s.code()).unwrap_or("");
    match status(&e) {
        // 412 PreconditionFailed; 409 ConditionalRequestConflict (a concurrent conditional
        // write is in flight); 404 for If-Match on an object that is gone.
        Some(412) | Some(409) => StoreError::Conflict { key: key.into() },
        Some(404) if code != "NoSuchBucket" => StoreError::Conflict { key: key.into() },
        _ => StoreError::backend(e),
    }
}

impl ObjectStore for S3ObjectStore {
    async fn get(&self, key: &str) -> Result<Option<Object>, StoreError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await;
        match out {
            Ok(o) => {
                let etag = Etag(o.e_tag().unwrap_or_default().to_string());
                // Chunks straight into one buffer of the announced size: `collect()` then
                // `into_bytes().to_vec()` held the object up to three times at once (chunks,
                // the joined copy, the Vec), which for a 30 MB mail was most of the peak memory.
                let announced = o.content_length().unwrap_or(0).clamp(0, MAX_PREALLOCATION);
                let mut bytes = Vec::with_capacity(announced as usize);
                let mut body = o.body;
                while let Some(chunk) = body.try_next().await.map_err(StoreError::backend)? {
                    bytes.extend_from_slice(&chunk);
                }
                Ok(Some(Object { bytes, etag }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e)
                if status(&e) == Some(404)
                    && e.as_service_error().and_then(|s| s.code()) != Some("NoSuchBucket") =>
            {
                Ok(None)
            }
            Err(e) => Err(StoreError::backend(e)),
        }
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
        condition: Condition<'_>,
    ) -> Result<Etag, StoreError> {
        let put = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .content_type(content_type)
            .body(ByteStream::from(bytes));
        match condition {
            Condition::Absent => put.if_none_match("*"),
            Condition::Matches(etag) => put.if_match(&etag.0),
        }
        .send()
        .await
        .map(|o| Etag(o.e_tag().unwrap_or_default().to_string()))
        .map_err(|e| conditional(key, e))
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(self.key(prefix))
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(StoreError::backend)?;
            for o in out.contents() {
                if let Some(k) = o.key() {
                    keys.push(
                        k.strip_prefix(self.prefix.as_str())
                            .unwrap_or(k)
                            .to_string(),
                    );
                }
            }
            match out.next_continuation_token() {
                Some(t) if out.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key(key))
            .send()
            .await
            .map(|_| ())
            .map_err(StoreError::backend)
    }
}
