/* civcasd: the command line. Each subcommand is a function below. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "domain/incident.h"
#include "domain/taxonomy.h"
#include "forms/instance.h"
#include "forms/xform.h"
#include "handlers/handlers.h"
#include "http/router.h"
#include "http/server.h"
#include "import/import.h"
#include "store/db.h"
#include "store/duplicate_queue.h"
#include "store/keys.h"
#include "store/migrate.h"
#include "store/replicas.h"
#include "store/rollup.h"
#include "store/rollup_fold.h"
#include "store/taxonomy.h"
#include "tools/signing.h"
#include "trends/trend.h"
#include "util/buf.h"
#include "util/ids.h"
#include "util/jsonv.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/progress.h"

/* Exit codes scripts can rely on. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_DB_UNREACHABLE = 3,
    EXIT_SCHEMA = 4,
    EXIT_ROWS_REJECTED = 5,
};

static void usage(FILE *out)
{
    fprintf(out,
            "civcasd %s: civilian casualty recording server\n"
            "\n"
            "Usage: civcasd [OPTIONS] COMMAND [ARGS]\n"
            "\n"
            "Commands:\n"
            "  serve                            serve the HTTP API\n"
            "  migrate                          apply pending schema migrations\n"
            "  keys create --role ROLE --name NAME\n"
            "                                   create an API key (ROLE: monitor, reviewer,\n"
            "                                   analyst, admin); the key is printed once, alone\n"
            "                                   on the last line of standard output\n"
            "  keys list                        list keys (never the keys themselves)\n"
            "  keys revoke ID                   revoke a key\n"
            "  taxonomy load FILE               load code lists and gazetteer (JSON)\n"
            "  form xform [--lang en]           print the incident form (an ODK XForm built\n"
            "                                   from the loaded taxonomy; docs/forms.md)\n"
            "  import [OPTIONS] FILE            import incidents from JSON Lines or CSV (see\n"
            "                                   civcasd import --help)\n"
            "  rollup verify                    check the trend rollups against the incidents;\n"
            "                                   exit 1 and list the cells that differ\n"
            "  rollup rebuild                   recompute the trend rollups (one transaction,\n"
            "                                   safe while civcasd serves: writes go on); a\n"
            "                                   progress line on standard error when it is a\n"
            "                                   terminal\n"
            "  signing-key create FILE          make the Ed25519 key that signs publications,\n"
            "                                   write it to FILE (mode 0600) and register its\n"
            "                                   public half; signs earlier publications too\n"
            "  signing-key list                 list signing keys and their validity\n"
            "  signing-key retire ID            stop using a key (what it signed stays valid)\n"
            "  verify --keys KEYS FILE [SIG]    check a downloaded publication against its\n"
            "                                   signature (default FILE.sig) offline\n"
            "  verify --chain --keys KEYS CHAIN [FILE...]\n"
            "                                   check a downloaded publication chain offline,\n"
            "                                   and that each FILE is in it\n"
            "  verify --chain                   check the database's whole chain and bodies\n"
            "  routes                           print the routes the server answers\n"
            "  help, --help                     this text\n"
            "  version, --version               the version\n"
            "\n"
            "Options (each also read from its environment variable; a flag wins):\n",
            CIVCAS_VERSION);
    config_print_help(out);
    fprintf(out, "\n"
                 "Exit codes: 0 success; 1 runtime failure; 2 usage error; 3 database\n"
                 "unreachable; 4 schema not current (serve) or a migration changed after it\n"
                 "was applied, or the database is newer than this binary (migrate); 5 some\n"
                 "rows rejected, the others imported (import).\n");
}

static struct db_conn *connect_or_report(void)
{
    struct api_error e;
    struct db_conn *c = db_connect_once(cfg.database_url, &e);
    if (!c)
        fprintf(stderr, "civcasd: %s", e.message);
    return c;
}

static int cmd_migrate(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "civcasd: migrate takes no arguments\n");
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    enum migrate_result result = migrate_apply(c, stdout);
    db_close(c);
    return result == MIGRATE_OK ? EXIT_OK
           : result == MIGRATE_CONFLICT ? EXIT_SCHEMA
                                        : EXIT_FAILURE_RUNTIME;
}

/* Reads "--name value" or "--name=value" pairs of a subcommand. */
static bool take_option(int argc, char **argv, int *i, const char *name, const char **out)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return false;
    if (argv[*i][n] == '=') {
        *out = argv[*i] + n + 1;
        return true;
    }
    if (argv[*i][n] != '\0' || *i + 1 >= argc)
        return false;
    *out = argv[++*i];
    return true;
}

static int keys_create(int argc, char **argv)
{
    const char *role_text = NULL, *name = NULL;
    for (int i = 0; i < argc; i++) {
        if (!take_option(argc, argv, &i, "--role", &role_text) &&
            !take_option(argc, argv, &i, "--name", &name)) {
            fprintf(stderr, "civcasd: keys create: unexpected argument %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    enum role role;
    if (!role_text || !role_parse(role_text, &role)) {
        fprintf(stderr, "civcasd: keys create needs --role monitor|reviewer|analyst|admin\n");
        return EXIT_USAGE;
    }
    if (!name || !name[0] || strlen(name) > 100 || !utf8_valid(name, strlen(name))) {
        fprintf(stderr, "civcasd: keys create needs --name NAME (1 to 100 characters)\n");
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    struct api_error e;
    char key[KEY_TEXT_LEN + 1];
    long long id;
    bool ok = store_key_create(c, role, name, key, &id, &e);
    db_close(c);
    if (!ok) {
        fprintf(stderr, "civcasd: could not create the key (is the schema migrated?)\n");
        return EXIT_FAILURE_RUNTIME;
    }
    printf("created key %lld (%s, %s); it is shown once, store it now:\n%s\n", id, role_name(role),
           name, key);
    return EXIT_OK;
}

static int keys_list(void)
{
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    PGresult *r = PQexec(db_pg(c),
                         "SELECT id, role, name, to_char(created_at AT TIME ZONE 'UTC', "
                         "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), COALESCE(to_char(revoked_at AT TIME "
                         "ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '-') FROM api_keys ORDER BY id");
    int rc = EXIT_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "civcasd: %s", PQerrorMessage(db_pg(c)));
        rc = EXIT_FAILURE_RUNTIME;
    } else {
        printf("%-6s %-9s %-21s %-21s %s\n", "ID", "ROLE", "CREATED", "REVOKED", "NAME");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-6s %-9s %-21s %-21s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 2));
    }
    PQclear(r);
    db_close(c);
    return rc;
}

static int keys_revoke(int argc, char **argv)
{
    long long id;
    if (argc != 1 || !id_parse(argv[0], &id)) {
        fprintf(stderr, "civcasd: keys revoke needs one key ID (see keys list)\n");
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    struct api_error e;
    int result = store_key_revoke(c, id, &e);
    db_close(c);
    if (result < 0) {
        fprintf(stderr, "civcasd: could not revoke the key\n");
        return EXIT_FAILURE_RUNTIME;
    }
    if (result == 0) {
        fprintf(stderr, "civcasd: no active key %lld\n", id);
        return EXIT_FAILURE_RUNTIME;
    }
    printf("revoked key %lld\n", id);
    return EXIT_OK;
}

static int cmd_keys(int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "create") == 0)
        return keys_create(argc - 1, argv + 1);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return keys_list();
    if (argc >= 1 && strcmp(argv[0], "revoke") == 0)
        return keys_revoke(argc - 1, argv + 1);
    fprintf(stderr, "civcasd: keys create|list|revoke (see civcasd --help)\n");
    return EXIT_USAGE;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < (64u << 20))
        buf_append(&b, chunk, n);
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, len);
}

static int cmd_taxonomy(int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "load") != 0) {
        fprintf(stderr, "civcasd: taxonomy load FILE\n");
        return EXIT_USAGE;
    }
    size_t len;
    char *text = read_file(argv[1], &len);
    if (!text) {
        fprintf(stderr, "civcasd: cannot read %s: %s\n", argv[1], strerror(errno));
        return EXIT_FAILURE_RUNTIME;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    struct api_error e;
    if (!doc) {
        fprintf(stderr, "civcasd: %s: line %d: %s\n", argv[1], jerr.line, jerr.text);
        return EXIT_FAILURE_RUNTIME;
    }
    if (!json_is_object(doc) || !taxonomy_file_validate(doc, &e)) {
        fprintf(stderr, "civcasd: %s: %s\n", argv[1],
                json_is_object(doc) ? e.message : "the file must hold a JSON object");
        json_decref(doc);
        return EXIT_FAILURE_RUNTIME;
    }
    taxonomy_file_defaults(doc);
    struct db_conn *c = connect_or_report();
    if (!c) {
        json_decref(doc);
        return EXIT_DB_UNREACHABLE;
    }
    bool ok = store_taxonomy_load(c, doc, &e);
    if (!ok)
        fprintf(stderr, "civcasd: loading failed: %s\n", PQerrorMessage(db_pg(c)));
    else
        printf("loaded taxonomy \"%s\"\n", json_string_value(json_object_get(doc, "name")));
    db_close(c);
    json_decref(doc);
    return ok ? EXIT_OK : EXIT_FAILURE_RUNTIME;
}

static void import_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: civcasd import [OPTIONS] FILE\n"
        "\n"
        "Imports incidents from FILE: JSON Lines (one POST /v1/incidents document a\n"
        "line) or CSV (a header row, then one incident a row: docs/import.md). Every\n"
        "row is validated as the API validates a document; rejected rows are listed\n"
        "in the error CSV (row, field, message) and the others imported, in batches\n"
        "of rows per transaction. A row already imported (the same import_key, or\n"
        "without one the same content) is not imported again.\n"
        "\n"
        "Options:\n"
        "  --format jsonl|csv   the file's format (default: csv for a name ending in\n"
        "                       .csv, jsonl otherwise)\n"
        "  --mapping FILE       JSON: {\"columns\": {\"Date\": \"occurred_on\", \"Notes\": null},\n"
        "                       \"codes\": {\"tactic\": {\"IED\": \"ied_non_suicide\"}}} (CSV)\n"
        "  --errors FILE        the error CSV (default: FILE.errors.csv)\n"
        "  --status reported|verified\n"
        "                       the status of imported incidents (default reported);\n"
        "                       verified rows must meet the verification standard\n"
        "                       (CIVCAS_VERIFY_MIN_SOURCE_TYPES distinct source types)\n"
        "  --as NAME            the key name revisions record as the author (default\n"
        "                       import); made, revoked, when no key has that name\n"
        "  --batch N            rows per transaction, 1 to 10000 (default 1000)\n"
        "  --writers N          batches written at once, each on its own database\n"
        "                       connection, 1 to 16 (default 2)\n"
        "  --dry-run            validate and count only; nothing is written\n"
        "\n"
        "A progress line goes to standard error when it is a terminal; one summary\n"
        "line to standard output. Exit codes: 0 every row imported or already there;\n"
        "1 the database failed (batches committed before stay; run it again); 2 usage\n"
        "error; 3 database unreachable; 4 schema not current; 5 some rows rejected,\n"
        "the others imported; 1 also when the file was refused (no header, a bad\n"
        "header, unreadable) and nothing was imported.\n");
}

static int cmd_import(int argc, char **argv)
{
    struct import_options o = {.format = IMPORT_FORMAT_AUTO, .as = "import", .batch_rows = 1000,
                              .writers = 2};
    const char *format = NULL, *status = NULL, *batch = NULL, *writers = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0) {
            o.dry_run = true;
        } else if (take_option(argc, argv, &i, "--format", &format) ||
                   take_option(argc, argv, &i, "--mapping", &o.mapping_path) ||
                   take_option(argc, argv, &i, "--errors", &o.errors_path) ||
                   take_option(argc, argv, &i, "--status", &status) ||
                   take_option(argc, argv, &i, "--as", &o.as) ||
                   take_option(argc, argv, &i, "--batch", &batch) ||
                   take_option(argc, argv, &i, "--writers", &writers)) {
            continue;
        } else if (argv[i][0] != '-' && !o.path) {
            o.path = argv[i];
        } else {
            fprintf(stderr, "civcasd: import: unexpected argument %s (see civcasd import --help)\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    char *end = NULL, *writers_end = NULL;
    if (batch)
        o.batch_rows = strtol(batch, &end, 10);
    long nwriters = writers ? strtol(writers, &writers_end, 10) : o.writers;
    const char *problem =
        !o.path                                             ? "import needs a FILE"
        : format && !import_format_parse(format, &o.format) ? "--format must be jsonl or csv"
        : status && strcmp(status, "reported") != 0 && strcmp(status, "verified") != 0
            ? "--status must be reported or verified"
        : batch && (!*batch || *end || o.batch_rows < 1 || o.batch_rows > 10000)
            ? "--batch must be a whole number from 1 to 10000"
        : writers && (!*writers || *writers_end || nwriters < 1 || nwriters > 16)
            ? "--writers must be a whole number from 1 to 16"
        : !o.as[0] || strlen(o.as) > 100 || !utf8_valid(o.as, strlen(o.as))
            ? "--as must be a name of 1 to 100 characters"
            : NULL;
    if (problem) {
        fprintf(stderr, "civcasd: %s (see civcasd import --help)\n", problem);
        return EXIT_USAGE;
    }
    o.writers = (int)nwriters;
    o.verified = status && strcmp(status, "verified") == 0;
    o.progress = isatty(STDERR_FILENO);
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    char why[512];
    bool current = migrate_check(c, why, sizeof why) == MIGRATE_CURRENT;
    db_close(c);
    if (!current) {
        fprintf(stderr, "civcasd: import: %s\n", why);
        return EXIT_SCHEMA;
    }
    switch (import_run(&o, cfg.database_url, (int)cfg.verify_min_source_types, stdout, stderr)) {
    case IMPORT_OK:
        return EXIT_OK;
    case IMPORT_ROWS_REJECTED:
        return EXIT_ROWS_REJECTED;
    case IMPORT_UNREACHABLE:
        return EXIT_DB_UNREACHABLE;
    case IMPORT_FILE_REFUSED:
    case IMPORT_FAILED:
        break;
    }
    return EXIT_FAILURE_RUNTIME;
}

/* The form's labels are the taxonomy's names, which are in one language;
 * --lang names it, and only en is there yet. */
static int cmd_form(int argc, char **argv)
{
    const char *lang = "en";
    bool xform = argc >= 1 && strcmp(argv[0], "xform") == 0;
    for (int i = 1; xform && i < argc; i++) {
        if (!take_option(argc, argv, &i, "--lang", &lang)) {
            fprintf(stderr, "civcasd: form xform: unexpected argument %s\n", argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!xform) {
        fprintf(stderr, "civcasd: form xform [--lang en]\n");
        return EXIT_USAGE;
    }
    if (strcmp(lang, "en") != 0) {
        fprintf(stderr, "civcasd: form xform: the taxonomy's labels are in one language (en); "
                        "--lang %s is not available\n",
                lang);
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    struct api_error e;
    struct taxonomy *t = store_taxonomy_acquire(c, true, &e);
    if (!t) {
        fprintf(stderr, "civcasd: form xform: %s\n", e.message);
        db_close(c);
        return EXIT_FAILURE_RUNTIME;
    }
    struct buf form;
    buf_init(&form);
    char version[XFORM_VERSION_LEN + 1];
    xform_build(t, &form, version);
    store_taxonomy_release(t);
    db_close(c);
    bool ok = fwrite(form.data, 1, form.len, stdout) == form.len && fflush(stdout) == 0;
    buf_free(&form);
    if (!ok) {
        fprintf(stderr, "civcasd: form xform: cannot write the form: %s\n", strerror(errno));
        return EXIT_FAILURE_RUNTIME;
    }
    return EXIT_OK;
}

static void rebuild_progress(void *arg, const char *unit, long long done, long long total)
{
    progress_ticker_set(arg, unit, done, total);
}

static int cmd_rollup(int argc, char **argv)
{
    bool verify = argc == 1 && strcmp(argv[0], "verify") == 0;
    bool rebuild = argc == 1 && strcmp(argv[0], "rebuild") == 0;
    if (!verify && !rebuild) {
        fprintf(stderr, "civcasd: rollup verify|rebuild\n");
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c)
        return EXIT_DB_UNREACHABLE;
    struct api_error e;
    long long cells = 0;
    int rc = EXIT_OK;
    if (rebuild) {
        struct progress_ticker ticker;
        progress_ticker_start(&ticker, isatty(STDERR_FILENO) ? stderr : NULL);
        struct rollup_progress progress = {rebuild_progress, &ticker};
        double started = progress_now();
        bool ok = store_rollup_rebuild(c, &progress, &cells, &e);
        progress_ticker_stop(&ticker);
        if (ok) {
            printf("rollup rebuilt: %lld cells in %.1f s\n", cells, progress_now() - started);
        } else {
            fprintf(stderr, "civcasd: rollup rebuild failed: %s\n", e.message);
            rc = EXIT_FAILURE_RUNTIME;
        }
    } else {
        long differing = store_rollup_verify(c, stdout, 200, &cells, &e);
        if (differing < 0) {
            rc = EXIT_FAILURE_RUNTIME;
        } else if (differing > 0) {
            printf("rollup differs from the incidents in %ld cells; "
                   "`civcasd rollup rebuild` repairs it\n",
                   differing);
            rc = EXIT_FAILURE_RUNTIME;
        } else {
            printf("rollup verified: %lld cells\n", cells);
        }
    }
    db_close(c);
    return rc;
}

static int cmd_serve(int argc, char **argv)
{
    (void)argv;
    if (argc != 0) {
        fprintf(stderr, "civcasd: serve takes no arguments\n");
        return EXIT_USAGE;
    }
    config_finish();
    char problem[512];
    /* A malformed replica list is a usage error, whatever the database. */
    if (cfg.read_database_url[0] &&
        !replicas_configure(cfg.read_database_url, (int)cfg.db_pool,
                            (int)cfg.statement_timeout_ms, cfg.max_replica_lag_ms, problem,
                            sizeof problem)) {
        fprintf(stderr, "civcasd: %s\n", problem);
        return EXIT_USAGE;
    }
    struct db_conn *c = connect_or_report();
    if (!c) {
        replicas_stop();
        return EXIT_DB_UNREACHABLE;
    }
    bool current = migrate_check(c, problem, sizeof problem) == MIGRATE_CURRENT &&
                   trend_check_gsets(c, problem, sizeof problem);
    db_close(c);
    if (!current) {
        log_error("refusing to serve: %s", problem);
        fprintf(stderr, "civcasd: refusing to serve: %s\n", problem);
        replicas_stop();
        return EXIT_SCHEMA;
    }

    struct signer *signer = NULL;
    if (cfg.signing_key[0]) {
        signer = signer_load(cfg.signing_key, problem, sizeof problem);
        if (!signer) {
            log_error("refusing to serve: %s", problem);
            fprintf(stderr, "civcasd: refusing to serve: %s\n", problem);
            replicas_stop();
            return EXIT_FAILURE_RUNTIME;
        }
    } else {
        log_warn("no CIVCAS_SIGNING_KEY: publishing answers 503 until one is set");
    }
    handlers_set_signer(signer);

    /* Signals are taken by this thread alone, with sigwait below. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    instance_init();
    rollup_writes_enabled = cfg.rollup_writes != 0;
    if (!rollup_writes_enabled)
        log_warn("CIVCAS_ROLLUP_WRITES=0: trends will be wrong until `civcasd rollup rebuild`");
    db_pool_init(cfg.database_url, (int)cfg.db_pool, (int)cfg.pool_wait_ms,
                 (int)cfg.statement_timeout_ms);
    if (cfg.read_database_url[0]) {
        if (!replicas_start(cfg.database_url, cfg.replica_check_ms)) {
            log_error("cannot start the replica monitor");
            replicas_stop();
            db_pool_shutdown();
            signer_free(signer);
            return EXIT_FAILURE_RUNTIME;
        }
    }
    log_buffer_start();
    if (!rollup_folder_start(cfg.database_url, cfg.rollup_fold_ms)) {
        log_error("cannot start the rollup folder");
        signer_free(signer);
        return EXIT_FAILURE_RUNTIME;
    }
    if (cfg.duplicate_queue_ms == 0)
        log_warn("CIVCAS_DUPLICATE_QUEUE_MS=0: the duplicates queue stays as it is until a "
                 "daemon keeps it again");
    else if (!duplicate_queue_start(cfg.database_url, cfg.duplicate_queue_ms)) {
        log_error("cannot start the duplicate queue keeper");
        rollup_folder_stop();
        return EXIT_FAILURE_RUNTIME;
    }
    if (!http_server_start()) {
        duplicate_queue_stop();
        rollup_folder_stop();
        replicas_stop();
        log_buffer_stop();
        db_pool_shutdown();
        signer_free(signer);
        return EXIT_FAILURE_RUNTIME;
    }
    json_t *f = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "msg", "serving", "version",
                          CIVCAS_VERSION, "listen", cfg.listen, "threads",
                          (json_int_t)cfg.threads, "io_threads", (json_int_t)cfg.io_threads,
                          "db_pool", (json_int_t)cfg.db_pool);
    log_fields(LOG_INFO, f);

    int sig = 0;
    sigwait(&set, &sig);
    log_info("signal %d: draining and stopping", sig);
    http_server_stop(30);
    duplicate_queue_stop();
    rollup_folder_stop();
    replicas_stop();
    log_buffer_stop();
    db_pool_shutdown();
    store_taxonomy_cache_clear();
    handlers_set_signer(NULL);
    signer_free(signer);
    log_info("stopped");
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    mem_init();
    if (!config_load(&argc, argv)) {
        fprintf(stderr, "civcasd: see civcasd --help\n");
        return EXIT_USAGE;
    }
    int rc;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    /* "civcasd COMMAND ... --help" is help too. */
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            cmd = strcmp(cmd, "import") == 0 ? "import --help" : "--help";
    if (!cmd) {
        usage(stderr);
        rc = EXIT_USAGE;
    } else if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        rc = EXIT_OK;
    } else if (strcmp(cmd, "import --help") == 0) {
        import_usage(stdout);
        rc = EXIT_OK;
    } else if (strcmp(cmd, "import") == 0) {
        rc = cmd_import(argc - 2, argv + 2);
    } else if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("civcasd %s\n", CIVCAS_VERSION);
        rc = EXIT_OK;
    } else if (strcmp(cmd, "serve") == 0) {
        rc = cmd_serve(argc - 2, argv + 2);
    } else if (strcmp(cmd, "migrate") == 0) {
        rc = cmd_migrate(argc - 2, argv + 2);
    } else if (strcmp(cmd, "keys") == 0) {
        rc = cmd_keys(argc - 2, argv + 2);
    } else if (strcmp(cmd, "taxonomy") == 0) {
        rc = cmd_taxonomy(argc - 2, argv + 2);
    } else if (strcmp(cmd, "form") == 0) {
        rc = cmd_form(argc - 2, argv + 2);
    } else if (strcmp(cmd, "rollup") == 0) {
        rc = cmd_rollup(argc - 2, argv + 2);
    } else if (strcmp(cmd, "signing-key") == 0) {
        rc = signing_key_command(argc - 2, argv + 2);
    } else if (strcmp(cmd, "verify") == 0) {
        rc = verify_command(argc - 2, argv + 2);
    } else if (strcmp(cmd, "routes") == 0) {
        http_routes_print(stdout);
        rc = EXIT_OK;
    } else {
        fprintf(stderr, "civcasd: unknown command %s; see civcasd --help\n", cmd);
        rc = EXIT_USAGE;
    }
    config_free();
    return rc;
}
