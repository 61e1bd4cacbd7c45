//! Diesel table definitions, matching `migrations/`.

diesel::table! {
    users (id) {
        id -> Uuid,
        username -> Text,
        password_hash -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        role -> Text,
        disabled_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    pve_nodes (id) {
        id -> Uuid,
        name -> Text,
        host -> Text,
        port -> Int4,
        token_id -> Text,
        token_secret_enc -> Bytea,
        tls_fingerprint -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        ssh_port -> Int4,
        ssh_host_key -> Nullable<Text>,
    }
}

diesel::table! {
    templates (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        source -> Text,
        version -> Text,
        os_template -> Text,
        cores -> Int4,
        memory_mib -> Int4,
        swap_mib -> Int4,
        disk_gib -> Int4,
        storage -> Text,
        bridge -> Text,
        unprivileged -> Bool,
        nesting -> Bool,
        keyctl -> Bool,
        fuse -> Bool,
        tags -> Array<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    template_scripts (id) {
        id -> Uuid,
        template_id -> Uuid,
        position -> Int4,
        name -> Text,
        description -> Text,
        content -> Text,
        enabled -> Bool,
    }
}

diesel::table! {
    template_files (id) {
        id -> Uuid,
        template_id -> Uuid,
        name -> Text,
        target_dir -> Text,
        policy -> Text,
        content -> Text,
    }
}

diesel::table! {
    template_packages (id) {
        id -> Uuid,
        template_id -> Uuid,
        position -> Int4,
        name -> Text,
        manager -> Text,
        version -> Nullable<Text>,
    }
}

diesel::table! {
    package_buckets (id) {
        id -> Uuid,
        name -> Text,
        description -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    bucket_packages (id) {
        id -> Uuid,
        bucket_id -> Uuid,
        position -> Int4,
        name -> Text,
        manager -> Text,
        version -> Nullable<Text>,
    }
}

diesel::table! {
    template_buckets (template_id, bucket_id) {
        template_id -> Uuid,
        bucket_id -> Uuid,
    }
}

diesel::table! {
    containers (id) {
        id -> Uuid,
        node_id -> Uuid,
        template_id -> Nullable<Uuid>,
        vmid -> Int4,
        hostname -> Text,
        lifecycle -> Text,
        config -> Jsonb,
        root_password_enc -> Nullable<Bytea>,
        checkpoint -> Jsonb,
        ip_address -> Nullable<Text>,
        ssh_host_key -> Nullable<Text>,
        error_message -> Nullable<Text>,
        created_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        request_key -> Nullable<Uuid>,
        ssh_key_enc -> Nullable<Bytea>,
    }
}

diesel::table! {
    container_runs (container_id, number) {
        container_id -> Uuid,
        number -> Int4,
        kind -> Text,
        source -> Nullable<Text>,
        first_seq -> Int8,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        outcome -> Nullable<Text>,
        started_by -> Nullable<Uuid>,
    }
}

diesel::table! {
    container_events (container_id, seq) {
        container_id -> Uuid,
        seq -> Int8,
        kind -> Text,
        phase -> Text,
        percent -> Int2,
        message -> Text,
        stream -> Nullable<Text>,
        script_name -> Nullable<Text>,
        script_index -> Nullable<Int4>,
        script_total -> Nullable<Int4>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    container_services (id) {
        id -> Uuid,
        container_id -> Uuid,
        name -> Text,
        port -> Nullable<Int4>,
        protocol -> Text,
        url -> Nullable<Text>,
    }
}

diesel::table! {
    container_credentials (id) {
        id -> Uuid,
        container_id -> Uuid,
        name -> Text,
        value_enc -> Bytea,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Int8,
        at -> Timestamptz,
        user_id -> Nullable<Uuid>,
        username -> Text,
        action -> Text,
        detail -> Text,
        container_id -> Uuid,
        container -> Text,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(audit_events -> users (user_id));
diesel::joinable!(template_scripts -> templates (template_id));
diesel::joinable!(template_files -> templates (template_id));
diesel::joinable!(template_packages -> templates (template_id));
diesel::joinable!(bucket_packages -> package_buckets (bucket_id));
diesel::joinable!(template_buckets -> templates (template_id));
diesel::joinable!(template_buckets -> package_buckets (bucket_id));
diesel::joinable!(containers -> pve_nodes (node_id));
diesel::joinable!(containers -> templates (template_id));
diesel::joinable!(container_events -> containers (container_id));
diesel::joinable!(container_runs -> containers (container_id));
diesel::joinable!(container_services -> containers (container_id));
diesel::joinable!(container_credentials -> containers (container_id));

diesel::allow_tables_to_appear_in_same_query!(
    container_runs,
    users,
    sessions,
    pve_nodes,
    templates,
    template_scripts,
    template_files,
    template_packages,
    package_buckets,
    bucket_packages,
    template_buckets,
    containers,
    container_events,
    container_services,
    container_credentials,
    audit_events,
);
