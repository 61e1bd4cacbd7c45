//! Every fixture in shared/pve/fixtures, served over HTTPS with its recorded status line,
//! decodes through the client call that receives it into the right type or typed error.

use pve_client::cluster::VmidAvailability;
use pve_client::lxc::{GuestState, IpConfig};
use pve_client::nodes::NodeState;
use pve_client::storage::ContentType;
use pve_client::tasks::TaskState;
use pve_client::{PveClient, PveError, TaskOutcome, Upid};

use crate::common::{MockPve, Reply, fixtures_dir, password, token};

const UPID: &str = "UPID:pve:0002A1B3:0159C2D1:67A3F0C2:vzcreate:100:root@pam:";

fn upid() -> Upid {
    UPID.parse().unwrap()
}

/// Runs the call that receives fixture `name`, checks the decoded value, and returns the
/// request it should have made. `None`: the fixture has no row in this table.
async fn check(c: &PveClient, server: &MockPve, name: &str) -> Option<(&'static str, String)> {
    let get = |p: &str| Some(("GET", p.to_owned()));
    match name {
        "GET_version.pve9" => {
            let v = c.version().await.unwrap();
            assert_eq!((v.release.as_str(), v.major()), ("9.1", Some(9)));
            get("/version")
        }
        "GET_nodes.single-pve9" => {
            let n = c.nodes().await.unwrap();
            assert_eq!(n.len(), 1);
            assert_eq!(
                (n[0].node.as_str(), n[0].status),
                ("pve", NodeState::Online)
            );
            assert_eq!(n[0].maxcpu, Some(16));
            assert!(
                n[0].ssl_fingerprint
                    .as_deref()
                    .unwrap()
                    .starts_with("5F:40")
            );
            get("/nodes")
        }
        "GET_nodes.cluster4-pve8" => {
            let n = c.nodes().await.unwrap();
            let names: Vec<_> = n.iter().map(|n| n.node.as_str()).collect();
            assert_eq!(names, ["node1", "node2", "node3", "node4"]);
            assert!(n.iter().all(|n| n.is_online()));
            get("/nodes")
        }
        "GET_nodes_node_status.pve7.4-16" => {
            let s = c.node_status("pve").await.unwrap();
            assert_eq!(s.loadavg, vec![0.0, 0.0, 0.0]);
            let cpu = s.cpuinfo.unwrap();
            assert_eq!((cpu.mhz, cpu.cpus), (Some(3400.0), Some(8)));
            assert_eq!(s.memory.unwrap().total, Some(65_919_459_328));
            assert_eq!(s.pveversion.as_deref(), Some("pve-manager/7.4-16/0f39f621"));
            get("/nodes/pve/status")
        }
        "GET_nodes_node_status.unknown-node" => {
            let err = c.node_status("doesntexist").await.unwrap_err();
            assert!(
                matches!(&err, PveError::NotFound { what, .. } if what == "Node 'doesntexist'"),
                "{err:?}"
            );
            get("/nodes/doesntexist/status")
        }
        "GET_nodes_node_storage.single-pve9" => {
            let s = c.storages("pve", Some(ContentType::RootDir)).await.unwrap();
            let names: Vec<_> = s.iter().map(|s| s.storage.as_str()).collect();
            assert_eq!(names, ["local", "local-lvm", "vmdata"]);
            assert!(!s[0].accepts(ContentType::RootDir) && s[0].accepts(ContentType::Template));
            assert!(s[1].accepts(ContentType::RootDir) && s[1].is_usable() && !s[1].shared);
            assert_eq!(s[1].avail, Some(3_913_305_765));
            let req = server.requests().pop().unwrap();
            assert_eq!(
                req.query.get("content").map(String::as_str),
                Some("rootdir")
            );
            get("/nodes/pve/storage")
        }
        "GET_nodes_node_storage_storage_content.vztmpl" => {
            let t = c.templates("pve", "local").await.unwrap();
            let files: Vec<_> = t.iter().map(|v| v.file_name()).collect();
            assert_eq!(
                files,
                [
                    "alpine-3.22-default_20250617_amd64.tar.xz",
                    "debian-12-standard_12.7-1_amd64.tar.zst",
                    "ubuntu-24.04-standard_24.04-2_amd64.tar.zst"
                ]
            );
            assert_eq!(t[1].format.as_deref(), Some("tzst"));
            let all = c.storage_content("pve", "local", None).await.unwrap();
            assert_eq!(all.len(), 5);
            assert_eq!(all[4].vmid, Some(100));
            get("/nodes/pve/storage/local/content")
        }
        "GET_nodes_node_aplinfo.system-templates" => {
            let a = c.aplinfo("pve").await.unwrap();
            assert!(a.len() > 3);
            assert_eq!(a[0].template, "almalinux-10-default_20250930_amd64.tar.xz");
            assert_eq!(a[0].section.as_deref(), Some("system"));
            get("/nodes/pve/aplinfo")
        }
        "GET_nodes_node_network.single-pve9" => {
            let n = c.network("pve").await.unwrap();
            assert_eq!(n.len(), 2);
            let b = c.bridges("pve").await.unwrap();
            assert_eq!(b.len(), 1);
            assert_eq!(b[0].iface, "vmbr0");
            assert_eq!(b[0].cidr.as_deref(), Some("192.168.200.134/24"));
            assert_eq!(b[0].netmask.as_deref(), Some("24"));
            assert!(b[0].active && b[0].autostart);
            get("/nodes/pve/network")
        }
        "GET_nodes_node_network.pve9.1.1-pvesh" => {
            let b = c.bridges("pve").await.unwrap();
            assert_eq!(
                b.iter().map(|b| b.iface.as_str()).collect::<Vec<_>>(),
                ["vmbr0"]
            );
            assert_eq!(b[0].gateway.as_deref(), Some("172.16.10.1"));
            get("/nodes/pve/network")
        }
        "GET_nodes_node_network.vlan-pve8" => {
            let n = c.network("pve").await.unwrap();
            let vlan = n.iter().find(|i| i.iface == "eno1.2").unwrap();
            assert_eq!((vlan.kind.as_str(), vlan.vlan_id), ("vlan", Some(2)));
            let b = c.bridges("pve").await.unwrap();
            assert_eq!(b.len(), 1);
            assert!(b[0].bridge_vlan_aware);
            get("/nodes/pve/network")
        }
        "GET_nodes_node_network.ovs-pve6.2" => {
            let b = c.bridges("pve").await.unwrap();
            assert_eq!(b.len(), 1);
            assert_eq!(
                (b[0].iface.as_str(), b[0].kind.as_str()),
                ("vmbr0", "OVSBridge")
            );
            get("/nodes/pve/network")
        }
        "GET_cluster_nextid" => {
            assert_eq!(c.next_vmid().await.unwrap(), 100);
            get("/cluster/nextid")
        }
        "GET_cluster_nextid.vmid-in-use" => {
            let a = c.check_vmid(200).await.unwrap();
            assert_eq!(
                a,
                VmidAvailability::Taken {
                    reason: "VM 200 already exists".into()
                }
            );
            assert_eq!(server.requests().pop().unwrap().query["vmid"], "200");
            let err = c.next_vmid().await.unwrap_err();
            assert!(
                matches!(&err, PveError::InvalidParameters { errors, .. } if errors["vmid"] == "VM 200 already exists"),
                "{err:?}"
            );
            get("/cluster/nextid")
        }
        "GET_cluster_resources.cluster4-pve8" => {
            let r = c.cluster_resources(None).await.unwrap();
            let vm = r.iter().find(|r| r.id == "qemu/101").unwrap();
            assert_eq!((vm.vmid, vm.template), (Some(101), true));
            assert!(r.iter().any(|r| r.kind == "node"));
            get("/cluster/resources")
        }
        "GET_cluster_resources.type-vm-pve6.2" => {
            let r = c.cluster_resources(Some("vm")).await.unwrap();
            assert_eq!((r[0].vmid, r[0].template), (Some(100), false));
            assert_eq!((r[4].vmid, r[4].template), (Some(9001), true));
            get("/cluster/resources")
        }
        "GET_nodes_node_lxc.pve7-vmid-string" => {
            let l = c.lxc_list("pve").await.unwrap();
            let ids: Vec<_> = l.iter().map(|c| c.vmid).collect();
            assert_eq!(ids, [101, 105, 106]);
            assert!(l[0].template && l[0].pid.is_none());
            assert_eq!(
                (l[1].status, l[1].pid),
                (GuestState::Running, Some(248_045))
            );
            get("/nodes/pve/lxc")
        }
        "GET_nodes_node_lxc.pve6.2" => {
            let l = c.lxc_list("pve").await.unwrap();
            assert_eq!(
                (l[0].vmid, l[0].pid, l[0].usage.maxdisk),
                (100, Some(1000), Some(1000))
            );
            assert!(!l[0].template);
            get("/nodes/pve/lxc")
        }
        "GET_nodes_node_lxc.pve9-source-derived" => {
            let l = c.lxc_list("pve").await.unwrap();
            assert_eq!(l[0].tags.as_deref(), Some("prod;web"));
            assert_eq!(
                (
                    l[0].usage.cpu,
                    l[0].usage.mem,
                    l[0].usage.maxmem,
                    l[0].usage.uptime
                ),
                (
                    Some(0.0123),
                    Some(52_428_800),
                    Some(536_870_912),
                    Some(3600)
                )
            );
            assert_eq!(
                (l[0].usage.disk, l[0].usage.maxdisk),
                (Some(1_010_237_440), Some(8_350_298_112))
            );
            assert_eq!((l[1].vmid, l[1].status), (101, GuestState::Stopped));
            assert_eq!((l[1].usage.cpu, l[1].usage.uptime), (Some(0.0), Some(0)));
            get("/nodes/pve/lxc")
        }
        "GET_nodes_node_lxc_vmid_status_current.pve6.2" => {
            let s = c.lxc_status("pve", 100).await.unwrap();
            assert_eq!(
                (s.vmid, s.status, s.usage.cpus),
                (100, GuestState::Running, Some(1.0))
            );
            assert!(s.ha.managed);
            assert_eq!(s.ha.state.as_deref(), Some("started"));
            assert_eq!(
                (s.usage.mem, s.usage.maxmem, s.usage.disk, s.usage.uptime),
                (
                    Some(89_980_928),
                    Some(1_073_741_824),
                    Some(4_998_168_576),
                    Some(6_793_736)
                )
            );
            assert!(s.usage.cpu.is_some_and(|cpu| cpu > 0.0 && cpu < 0.01));
            get("/nodes/pve/lxc/100/status/current")
        }
        "GET_nodes_node_lxc_vmid_status_current.stopped-template-pve7" => {
            let s = c.lxc_status("pve", 101).await.unwrap();
            assert_eq!(
                (s.status, s.template, s.ha.managed),
                (GuestState::Stopped, true, false)
            );
            get("/nodes/pve/lxc/101/status/current")
        }
        "GET_nodes_node_lxc_vmid_status_current.nonexistent" => {
            let err = c.lxc_status("pve", 999).await.unwrap_err();
            assert!(
                matches!(&err, PveError::NotFound { what, .. } if what == "Container 999 on node 'pve'"),
                "{err:?}"
            );
            get("/nodes/pve/lxc/999/status/current")
        }
        "GET_nodes_node_lxc_vmid_config.pve6.2" => {
            let cfg = c.lxc_config("pve", 100).await.unwrap();
            assert_eq!(
                (cfg.cores, cfg.memory, cfg.onboot),
                (Some(1), Some(1000), false)
            );
            let net = cfg.net0().unwrap();
            assert_eq!(net.ip, Some(IpConfig::Static("10.1.1.3/24".into())));
            assert!(cfg.other.contains_key("cpulimit"));
            get("/nodes/pve/lxc/100/config")
        }
        "GET_nodes_node_lxc_vmid_config.raw-lxc-pve7" => {
            let cfg = c.lxc_config("pve", 101).await.unwrap();
            assert_eq!(cfg.features.as_deref(), Some("fuse=1,mknod=1,nesting=1"));
            assert!(cfg.onboot);
            assert!(cfg.other.contains_key("lxc") && cfg.other.contains_key("mp0"));
            get("/nodes/pve/lxc/101/config")
        }
        "GET_nodes_node_lxc_vmid_config.fresh-create-source-derived" => {
            let cfg = c.lxc_config("pve", 100).await.unwrap();
            assert_eq!(cfg.unprivileged, Some(true));
            assert_eq!(
                cfg.net0().unwrap().hwaddr.as_deref(),
                Some("BC:24:11:5E:7A:10")
            );
            get("/nodes/pve/lxc/100/config")
        }
        "GET_nodes_node_lxc_vmid_interfaces.legacy-pve8" => {
            let i = c.lxc_interfaces("pve", 100).await.unwrap();
            assert_eq!(i[1].ipv4(), Some("192.168.3.95"));
            assert_eq!(i[1].mac(), Some("bc:24:11:89:67:07"));
            assert!(i[0].is_loopback());
            get("/nodes/pve/lxc/100/interfaces")
        }
        "GET_nodes_node_lxc_vmid_interfaces.pve8.4plus-source-derived" => {
            let i = c.lxc_interfaces("pve", 100).await.unwrap();
            assert_eq!(i[1].ipv4(), Some("192.168.1.50"));
            assert_eq!(i[1].ip_addresses[0].prefix, Some(24));
            assert_eq!(i[1].ip_addresses[1].prefix, Some(64));
            assert_eq!(i[1].hardware_address.as_deref(), Some("bc:24:11:5e:7a:10"));
            get("/nodes/pve/lxc/100/interfaces")
        }
        "GET_nodes_node_lxc_vmid_interfaces.pve9.2.2-no-dhcp" => {
            let i = c.lxc_interfaces("pve", 100).await.unwrap();
            assert_eq!(i.len(), 2);
            assert_eq!(i[1].ipv4(), None);
            get("/nodes/pve/lxc/100/interfaces")
        }
        "GET_nodes_node_lxc_vmid_interfaces.stopped" => {
            assert!(c.lxc_interfaces("pve", 100).await.unwrap().is_empty());
            get("/nodes/pve/lxc/100/interfaces")
        }
        "POST_nodes_node_lxc" => {
            let ct = pve_client::lxc::CreateCt::new(100, "local:vztmpl/debian-12.tar.zst");
            let u = c.lxc_create("pve", &ct).await.unwrap();
            assert_eq!((u.task_type.as_str(), u.id.as_str()), ("vzcreate", "100"));
            Some(("POST", "/nodes/pve/lxc".into()))
        }
        "POST_nodes_node_lxc.ct-exists" => {
            let ct = pve_client::lxc::CreateCt::new(100, "local:vztmpl/debian-12.tar.zst");
            let err = c.lxc_create("pve", &ct).await.unwrap_err();
            assert!(
                matches!(&err, PveError::AlreadyExists { vmid: 100, node, .. } if node == "pve"),
                "{err:?}"
            );
            Some(("POST", "/nodes/pve/lxc".into()))
        }
        "POST_nodes_node_lxc.missing-ostemplate" | "POST_nodes_node_lxc.no-rootdir-storage" => {
            let ct = pve_client::lxc::CreateCt::new(100, "local:vztmpl/debian-12.tar.zst");
            let err = c.lxc_create("pve", &ct).await.unwrap_err();
            let field = if name.ends_with("ostemplate") {
                "ostemplate"
            } else {
                "storage"
            };
            assert!(
                matches!(&err, PveError::InvalidParameters { errors, .. } if errors.contains_key(field)),
                "{err:?}"
            );
            Some(("POST", "/nodes/pve/lxc".into()))
        }
        "POST_nodes_node_lxc.403-no-vm-allocate" => {
            let ct = pve_client::lxc::CreateCt::new(100, "local:vztmpl/debian-12.tar.zst");
            let err = c.lxc_create("pve", &ct).await.unwrap_err();
            assert!(
                matches!(&err, PveError::PermissionDenied { path: None, privilege: None, message } if message == "Permission check failed"),
                "{err:?}"
            );
            Some(("POST", "/nodes/pve/lxc".into()))
        }
        "POST_nodes_node_lxc_vmid_status_start" => {
            let u = c.lxc_start("pve", 100).await.unwrap();
            assert_eq!(u.task_type, "vzstart");
            Some(("POST", "/nodes/pve/lxc/100/status/start".into()))
        }
        "POST_nodes_node_lxc_vmid_status_start.already-running" => {
            let err = c.lxc_start("pve", 100).await.unwrap_err();
            assert!(
                matches!(&err, PveError::Api { status: 500, message } if message == "CT 100 already running"),
                "{err:?}"
            );
            Some(("POST", "/nodes/pve/lxc/100/status/start".into()))
        }
        "POST_nodes_node_lxc_vmid_status_stop" => {
            assert_eq!(c.lxc_stop("pve", 100).await.unwrap().task_type, "vzstop");
            Some(("POST", "/nodes/pve/lxc/100/status/stop".into()))
        }
        "POST_nodes_node_lxc_vmid_status_stop.not-running" => {
            let err = c.lxc_stop("pve", 100).await.unwrap_err();
            assert!(matches!(&err, PveError::Api { status: 500, .. }), "{err:?}");
            Some(("POST", "/nodes/pve/lxc/100/status/stop".into()))
        }
        "POST_nodes_node_lxc_vmid_status_shutdown" => {
            assert_eq!(
                c.lxc_shutdown("pve", 100).await.unwrap().task_type,
                "vzshutdown"
            );
            Some(("POST", "/nodes/pve/lxc/100/status/shutdown".into()))
        }
        "DELETE_nodes_node_lxc_vmid" => {
            assert_eq!(
                c.lxc_delete("pve", 100, true).await.unwrap().task_type,
                "vzdestroy"
            );
            assert_eq!(server.requests().pop().unwrap().query["purge"], "1");
            Some(("DELETE", "/nodes/pve/lxc/100".into()))
        }
        "DELETE_nodes_node_lxc_vmid.running" => {
            let err = c.lxc_delete("pve", 100, false).await.unwrap_err();
            assert!(
                matches!(&err, PveError::Api { message, .. } if message.contains("container is running")),
                "{err:?}"
            );
            Some(("DELETE", "/nodes/pve/lxc/100".into()))
        }
        "GET_nodes_node_tasks_upid_status.running" => {
            let s = c.task_status(&upid()).await.unwrap();
            assert_eq!((s.status, s.outcome()), (TaskState::Running, None));
            assert_eq!((s.id.as_deref(), s.pid), (Some("100"), 172_467));
            get(&format!("/nodes/pve/tasks/{UPID}/status"))
        }
        "GET_nodes_node_tasks_upid_status.stopped-ok" => {
            let s = c.task_status(&upid()).await.unwrap();
            assert_eq!(s.outcome(), Some(TaskOutcome::Ok));
            get(&format!("/nodes/pve/tasks/{UPID}/status"))
        }
        "GET_nodes_node_tasks_upid_status.stopped-error" => {
            let s = c.task_status(&upid()).await.unwrap();
            assert!(
                matches!(s.outcome(), Some(TaskOutcome::Failed(m)) if m.contains("insufficient free space"))
            );
            get(&format!("/nodes/pve/tasks/{UPID}/status"))
        }
        "GET_nodes_node_tasks_upid_status.token-task" => {
            let s = c.task_status(&upid()).await.unwrap();
            assert_eq!(
                (s.user.as_str(), s.tokenid.as_deref()),
                ("automation@pve", Some("ci"))
            );
            get(&format!("/nodes/pve/tasks/{UPID}/status"))
        }
        "GET_nodes_node_tasks_upid_status.proxmoxer-vzdump" => {
            let u: Upid = "UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:"
                .parse()
                .unwrap();
            let s = c.task_status(&u).await.unwrap();
            assert_eq!(
                (s.pid, s.pstart, s.starttime),
                (u.pid, u.pstart, u.starttime)
            );
            get(&format!("/nodes/node1/tasks/{u}/status"))
        }
        "GET_nodes_node_tasks_upid_log.vzcreate" => {
            let p = c.task_log(&upid(), 0, 50).await.unwrap();
            assert_eq!((p.lines.len(), p.total), (8, Some(8)));
            assert_eq!(p.lines[7].t, "TASK OK");
            let req = server.requests().pop().unwrap();
            assert_eq!(
                (req.query["start"].as_str(), req.query["limit"].as_str()),
                ("0", "50")
            );
            get(&format!("/nodes/pve/tasks/{UPID}/log"))
        }
        "GET_nodes_node_tasks_upid_log.error"
        | "GET_nodes_node_tasks_upid_log.warnings"
        | "GET_nodes_node_tasks_upid_log.empty" => {
            let p = c.task_log(&upid(), 0, 50).await.unwrap();
            let last = &p.lines.last().unwrap().t;
            let want = match name.rsplit('.').next().unwrap() {
                "error" => "TASK ERROR: CT 100 already running",
                "warnings" => "TASK WARNINGS: 1",
                _ => "no content",
            };
            assert_eq!(last, want);
            get(&format!("/nodes/pve/tasks/{UPID}/log"))
        }
        "GET_nodes_node_tasks.pve6.4-8" => {
            let t = c.node_tasks("iaclab-01-01").await.unwrap();
            assert_eq!(t.len(), 3);
            assert_eq!(
                t[1].status.as_deref(),
                Some("command 'ifreload -a' failed: exit code 1")
            );
            assert_eq!(t[0].endtime, Some(1_629_092_710));
            let u: Upid = t[0].upid.parse().unwrap();
            assert_eq!((Some(u.pid), u.starttime), (t[0].pid, t[0].starttime));
            get("/nodes/iaclab-01-01/tasks")
        }
        "ERROR_401_no_ticket" => {
            let err = c.nodes().await.unwrap_err();
            assert!(
                matches!(&err, PveError::AuthFailed { message } if message == "No ticket"),
                "{err:?}"
            );
            get("/nodes")
        }
        "ERROR_403_token_not_allowed" => {
            let err = c.nodes().await.unwrap_err();
            assert!(
                matches!(&err, PveError::PermissionDenied { path: None, message, .. } if message.contains("not available with API token")),
                "{err:?}"
            );
            get("/nodes")
        }
        "ERROR_501_unknown_method" => {
            let err = c.lxc_interfaces("pve", 100).await.unwrap_err();
            assert!(matches!(&err, PveError::NotImplemented { .. }), "{err:?}");
            get("/nodes/pve/lxc/100/interfaces")
        }
        "POST_access_ticket.wiki-pve2" | "POST_access_ticket.pve8-with-cap" => {
            server.client(password()).authenticate().await.unwrap();
            Some(("POST", "/access/ticket".into()))
        }
        "POST_access_ticket.needtfa" => {
            let err = server.client(password()).authenticate().await.unwrap_err();
            assert!(matches!(&err, PveError::UnsupportedAuth { .. }), "{err:?}");
            assert!(err.to_string().contains("API token"));
            Some(("POST", "/access/ticket".into()))
        }
        "POST_access_ticket.401" | "POST_access_ticket.401.pre-2025" => {
            let err = server.client(password()).authenticate().await.unwrap_err();
            assert!(
                matches!(&err, PveError::AuthFailed { message } if message == "authentication failure"),
                "{err:?}"
            );
            Some(("POST", "/access/ticket".into()))
        }
        _ => None,
    }
}

#[tokio::test]
async fn every_fixture_decodes_through_its_call() {
    let dir = fixtures_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixture folder {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|f| {
            f.strip_suffix(".json")
                .or_else(|| f.strip_suffix(".empty-body"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    // Every fixture INDEX.md lists must be there (and so gets checked below).
    let index = std::fs::read_to_string(dir.join("INDEX.md")).expect("fixtures/INDEX.md");
    let listed: Vec<&str> = index
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split([' ', '|']).next())
        .filter(|n| n.contains('_'))
        .collect();
    assert!(
        listed.len() >= 50,
        "INDEX.md lists only {} fixtures",
        listed.len()
    );
    for name in listed {
        assert!(
            names.iter().any(|n| n == name),
            "fixture {name} from INDEX.md is missing"
        );
    }

    let server = MockPve::start(|_| Reply::raw(500, None, "")).await;
    let client = server.client(token());
    for name in &names {
        let reply = Reply::fixture(name);
        server.respond(move |_| reply.clone());
        server.clear();
        let expected = check(&client, &server, name)
            .await
            .unwrap_or_else(|| panic!("fixture {name} has no row in the table"));
        let first = &server.requests()[0];
        assert_eq!(
            (first.method.as_str(), first.path.as_str()),
            (expected.0, expected.1.as_str()),
            "request for fixture {name}"
        );
    }
}
