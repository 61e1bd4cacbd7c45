//! Template discovery and storage against a real PostgreSQL.

use backend::models::{bucket, template};
use backend::templates::sync::sync_folder;
use domain::template::{Bucket, FilePolicy, Package, PackageManager, TemplateSource};
use std::path::PathBuf;

fn shipped_templates() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

async fn conn() -> backend::db::DbConn {
    let url = testkit::migrated_database().await;
    backend::db::pool(&url, 2).unwrap().get().await.unwrap()
}

#[tokio::test]
async fn the_shipped_templates_discover_cleanly_and_twice_gives_the_same_database() {
    let mut conn = conn().await;
    let first = sync_folder(&mut conn, &shipped_templates()).await.unwrap();
    assert!(first.issues.is_empty(), "{:?}", first.issues);
    assert_eq!(first.added, ["debian-base", "dev-toolbox", "web-server"]);
    let before = template::list(&mut conn).await.unwrap();

    let second = sync_folder(&mut conn, &shipped_templates()).await.unwrap();
    assert!(
        second.added.is_empty() && second.updated.is_empty(),
        "{second:?}"
    );
    assert_eq!(second.unchanged.len(), 3);
    assert_eq!(template::list(&mut conn).await.unwrap(), before);

    let toolbox = before.iter().find(|t| t.name == "dev-toolbox").unwrap();
    let detail = template::load(&mut conn, toolbox.id)
        .await
        .unwrap()
        .template;
    assert_eq!(detail.source, TemplateSource::Filesystem);
    let policies: Vec<FilePolicy> = detail.files.iter().map(|f| f.policy).collect();
    for policy in FilePolicy::ALL {
        assert!(policies.contains(policy), "{policy} missing");
    }
    let managers: std::collections::HashSet<_> =
        detail.packages.iter().map(|p| p.manager).collect();
    assert!(managers.len() >= 2);
    assert!(detail.scripts.len() >= 3);
}

#[tokio::test]
async fn a_changed_folder_updates_in_place_and_a_broken_one_does_not_stop_the_rest() {
    let mut conn = conn().await;
    let dir = std::env::temp_dir().join(format!("templates-{}", uuid::Uuid::new_v4().simple()));
    let write = |path: &str, text: &str| {
        let full = dir.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    };
    write("good/template.conf", "TEMPLATE_APP=good\nTEMPLATE_CPU=1\n");
    write(
        "broken/template.conf",
        "TEMPLATE_APP=broken\nTEMPLATE_RAM=lots\n",
    );
    let report = sync_folder(&mut conn, &dir).await.unwrap();
    assert_eq!(report.added, ["good"]);
    assert_eq!(report.issues.len(), 1);
    assert!(
        report.issues[0].path.ends_with("broken/template.conf") && report.issues[0].line == Some(2)
    );

    let id = template::find_id_by_name(&mut conn, "good")
        .await
        .unwrap()
        .unwrap();
    write("good/template.conf", "TEMPLATE_APP=good\nTEMPLATE_CPU=4\n");
    let report = sync_folder(&mut conn, &dir).await.unwrap();
    assert_eq!(report.updated, ["good"]);
    let detail = template::load(&mut conn, id).await.unwrap();
    assert_eq!((detail.id, detail.template.cores), (id, 4));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn templates_and_buckets_are_saved_whole_and_replaced_whole() {
    let mut conn = conn().await;
    let bucket_id = bucket::insert(
        &mut conn,
        &Bucket {
            name: "monitoring".into(),
            description: "agents".into(),
            packages: vec![Package {
                name: "prometheus-node-exporter".into(),
                manager: PackageManager::Apt,
                version: None,
            }],
        },
    )
    .await
    .unwrap();
    let mut t = domain::template::Template {
        name: "custom".into(),
        bucket_ids: vec![bucket_id],
        ..Default::default()
    };
    t.packages.push(Package {
        name: "htop".into(),
        manager: PackageManager::Apt,
        version: None,
    });
    let id = template::insert(&mut conn, &t).await.unwrap();
    let detail = template::load(&mut conn, id).await.unwrap();
    assert_eq!(detail.template, t);
    assert_eq!(
        detail.buckets[0].bucket.packages[0].name,
        "prometheus-node-exporter"
    );

    t.packages.clear();
    t.bucket_ids.clear();
    assert!(template::update(&mut conn, id, &t).await.unwrap());
    let detail = template::load(&mut conn, id).await.unwrap();
    assert!(detail.template.packages.is_empty() && detail.buckets.is_empty());
    assert_eq!(template::list(&mut conn).await.unwrap()[0].package_count, 0);
    assert!(template::delete(&mut conn, id).await.unwrap());
    assert_eq!(
        bucket::list(&mut conn).await.unwrap().len(),
        1,
        "deleting a template keeps its buckets"
    );
}
