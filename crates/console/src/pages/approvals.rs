//! Approvals: every record with release requests waiting, oldest first,
//! for approvers.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use mukaika_access::Role;
use mukaika_quarantine::{Filter, Sort};

use super::quarantine::search;
use super::{Chrome, Row, render};
use crate::http::session::User;
use crate::state::Shared;

/// The most waiting records one page shows.
const MAX_ROWS: u64 = 500;

#[derive(Template)]
#[template(path = "approvals.html")]
struct ApprovalsPage {
    chrome: Chrome,
    rows: Vec<Row>,
}

/// `GET /approvals`.
pub async fn show(State(state): State<Shared>, user: User) -> Response {
    let page = async {
        user.require(Role::Approver)?;
        let filter = Filter {
            open_requests: true,
            sort: Sort::Oldest,
            limit: Some(MAX_ROWS),
            ..Filter::default()
        };
        let (summaries, _) = search(&state, filter).await?;
        render(&ApprovalsPage {
            chrome: Chrome::user(&user, "/approvals", "approvals"),
            rows: summaries
                .into_iter()
                .map(|s| Row::new(s, user.lang))
                .collect(),
        })
    };
    page.await
        .map_or_else(|f| user.fail(f), IntoResponse::into_response)
}
