//! Shared test helpers: a sample alert, channel configs, and a local HTTP receiver that
//! plays a platform and records what it got.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use chrono::TimeZone;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use yuqing_core::config::{ChannelConfig, ChannelKind, RouteConfig};
use yuqing_core::{Category, Level, Tier, Tone};
use yuqing_notify::{Alert, AlertKind};

pub fn alert() -> Alert {
    Alert {
        kind: AlertKind::Item,
        key: "item-17".into(),
        title: "上犹县某乡镇惠农补贴发放迟缓引发群众不满".into(),
        level: Level::Important,
        tone: Tone::Negative,
        source: "县政府网-留言板".into(),
        tier: Tier::Local,
        url: Some("https://news.example.org/a/17.html".into()),
        link: Some("https://yuqing.example.org/items/17".into()),
        summary: "有群众反映，今年的耕地地力保护补贴至今未到账。".into(),
        categories: vec![Category::Livelihood, Category::Policy],
        rules: vec!["上犹财政".into()],
        at: chrono::Utc.with_ymd_and_hms(2024, 5, 1, 2, 30, 0).unwrap(),
        on_duty: vec!["张三".into(), "李四".into()],
        escalation: None,
        ack_link: None,
        notice: None,
    }
}

pub fn route(channels: &[&str]) -> RouteConfig {
    RouteConfig {
        channels: channels.iter().map(|s| s.to_string()).collect(),
        spikes: false,
        tone: None,
        min_level: None,
        rules: vec![],
        categories: vec![],
        tiers: vec![],
    }
}

pub fn channel(name: &str, kind: ChannelKind, url: Option<&str>) -> ChannelConfig {
    ChannelConfig {
        name: name.into(),
        kind,
        smtp: None,
        tls: None,
        from: None,
        to: vec![],
        username: None,
        password_env: None,
        url: url.map(|u| u.parse().unwrap()),
        secret_env: None,
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Clone)]
struct Shared {
    reqs: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<(u16, String)>>>,
    default: (u16, String),
}

/// A local receiver on 127.0.0.1:0: records every request, answers with the queued
/// replies first, then with the default one.
pub struct Fake {
    pub addr: SocketAddr,
    shared: Shared,
}

impl Fake {
    pub async fn start(status: u16, body: &str) -> Fake {
        let shared = Shared { reqs: Arc::default(), replies: Arc::default(), default: (status, body.to_string()) };
        let app = axum::Router::new().fallback(record).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake { addr, shared }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    pub fn reply_next(&self, status: u16, body: &str) {
        self.shared.replies.lock().unwrap().push_back((status, body.to_string()));
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.reqs.lock().unwrap().clone()
    }
}

async fn record(State(s): State<Shared>, uri: Uri, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    s.reqs.lock().unwrap().push(Recorded {
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers,
        body,
    });
    let (status, text) = s.replies.lock().unwrap().pop_front().unwrap_or_else(|| s.default.clone());
    (StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], text)
}
