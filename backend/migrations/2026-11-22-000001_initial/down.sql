DROP TABLE container_credentials, container_services, container_events, containers,
    template_buckets, bucket_packages, package_buckets, template_packages, template_files,
    template_scripts, templates, pve_nodes, sessions, users;
