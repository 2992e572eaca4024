//! What the emulator's tests share: a token from its OAuth endpoint and a Web API client with it.

#![allow(dead_code)] // each test binary uses its own part

use dataverse_emulator::{Config, Emulator};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A token request to the emulator for the stock client with `secret`.
pub async fn token(emu: &Emulator, secret: &str) -> reqwest::Response {
    let cfg = Config::default();
    reqwest::Client::new()
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            emu.base_url(),
            cfg.tenant_id
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", cfg.client_id.as_str()),
            ("client_secret", secret),
            ("scope", &format!("{}/.default", emu.base_url())),
        ])
        .send()
        .await
        .expect("token request")
}

/// The Web API with the stock client's token.
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

/// A [`Client`] with a fresh token for the stock client and secret.
pub async fn client(emu: &Emulator) -> Client {
    let v: Value = token(emu, &Config::default().client_secret)
        .await
        .json()
        .await
        .expect("json");
    Client {
        http: reqwest::Client::new(),
        base: format!("{}/api/data/v9.2/", emu.base_url()),
        token: v["access_token"].as_str().expect("token").to_string(),
    }
}

impl Client {
    /// `METHOD base/PATH` with `headers` and a JSON `body`: the status, the JSON answer
    /// (`null` if none) and the headers.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (u16, Value, HeaderMap) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            headers,
        )
    }

    /// [`Client::request`] without headers: the status and the JSON answer.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let (status, v, _) = self.request(method, path, &[], body).await;
        (status, v)
    }
}
