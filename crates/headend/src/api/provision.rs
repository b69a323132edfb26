//! `POST /api/v1/provision`: a box trades an installer code for its id and
//! token (the rules: `headend_ops::provision`). Too many failed attempts
//! are answered `429` with `Retry-After` and the refusal code the box
//! shows in plain words.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use model::{refusal, ProvisionRequest};

use headend_ops::throttle::RetryAfter;
use headend_ops::OpsError;

use crate::api::boxes::BoxToken;
use crate::api::{ApiError, AppState};
use crate::auth::ClientIp;

/// A `429` with `Retry-After` and a refusal code a box understands.
pub(crate) fn too_many(code: &str, message: String, wait: RetryAfter) -> Response {
    let body = model::ApiError {
        code: code.to_string(),
        message,
    };
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait.0));
    response
}

pub(crate) async fn provision(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: BoxToken,
    Json(request): Json<ProvisionRequest>,
) -> Response {
    match state.ops.provision(&ip, token.bearer(), &request).await {
        Ok(provisioned) => (StatusCode::CREATED, Json(provisioned)).into_response(),
        Err(OpsError::Throttled(wait)) => too_many(
            refusal::PROVISION_THROTTLED,
            format!(
                "too many failed provisioning attempts; wait {} seconds and try again",
                wait.0
            ),
            wait,
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}
