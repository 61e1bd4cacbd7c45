//! The backend's integration tests, in one binary: models, creation, events, the queue and
//! template sync against the test PostgreSQL and Redis. Each test still runs in its own process
//! under nextest.

mod creation;
mod events;
mod health;
mod hub;
mod models;
mod queue;
mod templates;
mod users;
