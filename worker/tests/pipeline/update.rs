//! Update runs: a ready container's template is changed and applied again; the worker deploys,
//! syncs and discovers again on the running container, and the run is listed with its log.

use backend::services::updates;
use domain::container::Lifecycle;
use domain::run::{RunKind, UpdateSource};
use domain::spec::Ipv4Setup;
use domain::template::{Package, Template};
use testkit::fixtures::apt;

use crate::common::*;

fn template(packages: Vec<Package>) -> Template {
    Template {
        name: "Tools".into(),
        description: "A few tools".into(),
        storage: "local-lvm".into(),
        bridge: "vmbr0".into(),
        packages,
        scripts: vec![script(
            "10-mark.sh",
            "#!/bin/sh\necho run >> /root/runs\necho \"marked $(wc -l < /root/runs)\"\n",
        )],
        ..Template::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_package_added_to_the_template_is_installed_by_an_update_run() {
    let world = World::start(WorldOptions::default()).await;
    let template_id =
        backend::services::templates::save(&world.db, None, template(vec![apt("curl")]))
            .await
            .unwrap();
    let mut draft = bare_spec(
        world.node_id,
        190,
        Ipv4Setup::Static {
            cidr: static_cidr(),
            gateway: None,
        },
    );
    draft.template_id = Some(template_id);
    draft.template_name = Some("Tools".into());
    draft.packages = vec![apt("curl")];
    draft.scripts = template(vec![]).scripts;
    let running = world.default_runner().await;
    let id = world.create(&draft).await;
    let (row, transcript) = world.finished(id).await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert!(
        world
            .read(190, "/var/lib/dpkg-sim/installed/curl")
            .is_some()
    );
    assert!(
        world
            .read(190, "/var/lib/dpkg-sim/installed/htop")
            .is_none()
    );

    // The template gains a package: the preview names it, and nothing else.
    backend::services::templates::save(
        &world.db,
        Some(template_id),
        template(vec![apt("curl"), apt("htop")]),
    )
    .await
    .unwrap();
    let preview = updates::preview(&world.db, id, UpdateSource::Template)
        .await
        .unwrap();
    let changes: Vec<(&str, &str, &str)> = preview
        .changes
        .iter()
        .map(|c| (c.area.as_str(), c.name.as_str(), c.change.as_str()))
        .collect();
    assert_eq!(changes, [("package", "htop (apt)", "added")]);

    let number = updates::start(
        &world.db,
        &world.redis,
        &world.queue,
        id,
        UpdateSource::Template,
        None,
    )
    .await
    .unwrap();
    assert_eq!(number, 2);
    // A second click while it runs is refused.
    let again = updates::start(
        &world.db,
        &world.redis,
        &world.queue,
        id,
        UpdateSource::Template,
        None,
    )
    .await;
    assert!(
        matches!(again, Err(backend::services::ServiceError::Conflict(_))),
        "{again:?}"
    );
    let (row, transcript) = world.finished(id).await;
    running.stop().await;
    assert_eq!(row.lifecycle, Lifecycle::Ready, "{transcript}");
    assert!(
        world
            .read(190, "/var/lib/dpkg-sim/installed/htop")
            .is_some(),
        "htop installed by the update:\n{transcript}"
    );
    assert_eq!(
        world.read(190, "/root/runs").as_deref(),
        Some("run\nrun\n"),
        "the script ran again"
    );
    assert_eq!(world.create_tasks(190).await, 1, "not created again");
    let stored = row.spec().unwrap();
    assert!(stored.packages.iter().any(|p| p.name == "htop"));

    // Both runs are listed; the update's log starts at its own first event.
    let mut conn = world.db.get().await.unwrap();
    let runs = backend::models::RunRow::list(&mut conn, id).await.unwrap();
    let shape: Vec<(i32, RunKind, Option<&str>)> = runs
        .iter()
        .map(|r| (r.number, r.kind, r.outcome.as_deref()))
        .collect();
    assert_eq!(
        shape,
        [
            (1, RunKind::Create, Some("ready")),
            (2, RunKind::Update, Some("ready"))
        ]
    );
    let events = world.events(id).await;
    let first = events
        .iter()
        .find(|e| e.seq == runs[1].first_seq)
        .expect("the update's first event");
    assert_eq!(
        first.message,
        "Update 2: applying the template's current version."
    );
    let update_log: Vec<&str> = events
        .iter()
        .filter(|e| e.seq >= runs[1].first_seq)
        .map(|e| e.message.as_str())
        .collect();
    assert!(update_log.contains(&"marked 2"), "{update_log:?}");
    assert!(
        !update_log
            .iter()
            .any(|m| m.starts_with("Creating container")),
        "the update does not create: {update_log:?}"
    );
}
