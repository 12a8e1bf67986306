/* civcasd signing-key create|list|retire and civcasd verify. */
#include "tools/signing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain/publication.h"
#include "store/db.h"
#include "store/publications.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/ids.h"
#include "util/sign.h"

/* The same numbers as civcasd's exit codes (civcasd --help). */
enum { TOOL_OK = 0, TOOL_FAILED = 1, TOOL_USAGE = 2, TOOL_DB_UNREACHABLE = 3 };

/* Downloaded files are small; 64 MiB is far past any report. */
#define FILE_MAX (64u << 20)

static struct db_conn *connect_or_say(void)
{
    struct api_error e;
    struct db_conn *c = db_connect_once(cfg.database_url, &e);
    if (!c)
        fprintf(stderr, "civcasd: %s", e.message);
    return c;
}

static int key_create(const char *path)
{
    char problem[512];
    struct signer *s = signer_create(path, problem, sizeof problem);
    if (!s) {
        fprintf(stderr, "civcasd: %s\n", problem);
        return TOOL_FAILED;
    }
    struct db_conn *c = connect_or_say();
    if (!c) {
        remove(path);
        signer_free(s);
        return TOOL_DB_UNREACHABLE;
    }
    long long id = 0;
    long count = 0;
    bool ok = publications_register_key(c, s, &id, &count, problem, sizeof problem);
    db_close(c);
    if (!ok) {
        fprintf(stderr, "civcasd: %s\n", problem);
        remove(path);
        signer_free(s);
        return TOOL_FAILED;
    }
    printf("signing key %lld, fingerprint %s, written to %s\n", id, signer_fingerprint(s), path);
    if (count > 0)
        printf("signed %ld earlier publication%s into the chain\n", count, count == 1 ? "" : "s");
    printf("serve with CIVCAS_SIGNING_KEY=%s; retire the key it replaces with "
           "civcasd signing-key retire ID\n",
           path);
    signer_free(s);
    return TOOL_OK;
}

static int key_list(void)
{
    struct db_conn *c = connect_or_say();
    if (!c)
        return TOOL_DB_UNREACHABLE;
    struct api_error e;
    json_t *doc = store_signing_keys(c, &e), *k;
    db_close(c);
    if (!doc) {
        fprintf(stderr, "civcasd: %s\n", e.message);
        return TOOL_FAILED;
    }
    size_t i;
    printf("%-6s %-28s %-28s %s\n", "ID", "VALID FROM", "VALID UNTIL", "FINGERPRINT");
    json_array_foreach(json_object_get(doc, "keys"), i, k) {
        const char *until = json_string_value(json_object_get(k, "valid_until"));
        printf("%-6s %-28s %-28s %s\n", json_string_value(json_object_get(k, "id")),
               json_string_value(json_object_get(k, "valid_from")), until ? until : "-",
               json_string_value(json_object_get(k, "fingerprint")));
    }
    json_decref(doc);
    return TOOL_OK;
}

static int key_retire(const char *arg)
{
    long long id;
    if (!id_parse(arg, &id)) {
        fprintf(stderr, "civcasd: signing-key retire needs one key ID (see signing-key list)\n");
        return TOOL_USAGE;
    }
    struct db_conn *c = connect_or_say();
    if (!c)
        return TOOL_DB_UNREACHABLE;
    char problem[512];
    bool found = false, ok = publications_retire_key(c, id, &found, problem, sizeof problem);
    db_close(c);
    if (!ok) {
        fprintf(stderr, "civcasd: %s\n", problem);
        return TOOL_FAILED;
    }
    if (!found) {
        fprintf(stderr, "civcasd: no signing key %lld in use\n", id);
        return TOOL_FAILED;
    }
    printf("retired signing key %lld: it signs nothing more, and what it signed stays "
           "verifiable\n",
           id);
    return TOOL_OK;
}

int signing_key_command(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[0], "create") == 0)
        return key_create(argv[1]);
    if (argc == 1 && strcmp(argv[0], "list") == 0)
        return key_list();
    if (argc == 2 && strcmp(argv[0], "retire") == 0)
        return key_retire(argv[1]);
    fprintf(stderr, "civcasd: signing-key create FILE | list | retire ID (see civcasd --help)\n");
    return TOOL_USAGE;
}

/* ---- verify ---- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "civcasd: cannot open %s\n", path);
        return NULL;
    }
    struct buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= FILE_MAX)
        buf_append(&b, chunk, n);
    bool failed = ferror(f) || b.len > FILE_MAX;
    fclose(f);
    if (failed) {
        fprintf(stderr, "civcasd: cannot read %s (or it is over 64 MiB)\n", path);
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b, len);
}

static json_t *load_json(const char *path)
{
    size_t len;
    char *text = slurp(path, &len);
    if (!text)
        return NULL;
    json_error_t err;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    free(text);
    if (!doc)
        fprintf(stderr, "civcasd: %s is not JSON: %s (line %d)\n", path, err.text, err.line);
    return doc;
}

static bool load_keyring(const char *path, struct keyring *ring)
{
    json_t *doc = load_json(path);
    char problem[256];
    bool ok = doc && keyring_from_json(doc, ring, problem, sizeof problem);
    if (doc && !ok)
        fprintf(stderr, "civcasd: %s: %s\n", path, problem);
    json_decref(doc);
    return ok;
}

/* One snapshot against its detached signature (raw 64 bytes). */
static bool verify_file(const struct keyring *ring, const char *path, const char *sig_path)
{
    size_t len, sig_len;
    char *data = slurp(path, &len), *sig = data ? slurp(sig_path, &sig_len) : NULL;
    size_t which;
    bool ok = sig && keyring_verify(ring, data, len, (unsigned char *)sig, sig_len, &which);
    if (ok)
        printf("%s: good signature by key %s\n", path, ring->keys[which].fingerprint);
    else if (sig)
        printf("%s: BAD signature: not signed by any key of the keys file, or changed since\n",
               path);
    free(data);
    free(sig);
    return ok;
}

/* Where a downloaded file stands in a checked chain. */
static bool file_in_chain(json_t *chain, const char *path)
{
    size_t len, i;
    char *data = slurp(path, &len);
    if (!data)
        return false;
    unsigned char digest[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    sha256(data, len, digest);
    hex_encode(digest, SHA256_LEN, hex);
    free(data);
    json_t *entry;
    json_array_foreach(json_object_get(chain, "publications"), i, entry) {
        json_t *link = json_loads(json_string_value(json_object_get(entry, "link")), 0, NULL);
        const char *sum = json_string_value(json_object_get(link, "sha256"));
        bool match = sum && strcmp(sum, hex) == 0;
        if (match)
            printf("%s: publication %zu of the chain (%s %s)\n", path, i + 1,
                   json_string_value(json_object_get(link, "kind")),
                   json_string_value(json_object_get(link, "report_id")));
        json_decref(link);
        if (match)
            return true;
    }
    printf("%s: NOT in the chain: no publication has these bytes\n", path);
    return false;
}

static int verify_chain_offline(const struct keyring *ring, const char *chain_path, int nfiles,
                                char **files)
{
    json_t *chain = load_json(chain_path);
    if (!chain)
        return TOOL_FAILED;
    long checked;
    bool ok = publication_chain_check(chain, ring, stdout, &checked);
    printf("%s: %ld publication%s, chain %s\n", chain_path, checked, checked == 1 ? "" : "s",
           ok ? "intact" : "BROKEN");
    for (int i = 0; ok && i < nfiles; i++)
        ok = file_in_chain(chain, files[i]) && ok;
    json_decref(chain);
    return ok ? TOOL_OK : TOOL_FAILED;
}

static int verify_chain_database(void)
{
    struct db_conn *c = connect_or_say();
    if (!c)
        return TOOL_DB_UNREACHABLE;
    char problem[512] = "";
    long checked;
    bool ok = publications_verify_chain(c, stdout, &checked, problem, sizeof problem);
    db_close(c);
    if (problem[0]) {
        fprintf(stderr, "civcasd: %s\n", problem);
        return TOOL_FAILED;
    }
    printf("database: %ld publication%s, chain %s\n", checked, checked == 1 ? "" : "s",
           ok ? "intact, every stored body as signed" : "BROKEN");
    return ok ? TOOL_OK : TOOL_FAILED;
}

static int verify_usage(void)
{
    fprintf(stderr, "civcasd: verify --keys KEYS FILE [SIGNATURE]\n"
                    "         verify --chain --keys KEYS CHAIN [FILE...]\n"
                    "         verify --chain            (the database's whole history)\n"
                    "see civcasd --help and docs/verifying.md\n");
    return TOOL_USAGE;
}

int verify_command(int argc, char **argv)
{
    const char *keys = NULL;
    bool chain = false;
    int i = 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--chain") == 0)
            chain = true;
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            keys = argv[++i];
        else
            return verify_usage();
    }
    argc -= i;
    argv += i;
    if (chain && !keys && argc == 0)
        return verify_chain_database();
    struct keyring ring;
    if (!keys || argc < 1 || (!chain && argc > 2))
        return verify_usage();
    if (!load_keyring(keys, &ring))
        return TOOL_FAILED;
    if (chain)
        return verify_chain_offline(&ring, argv[0], argc - 1, argv + 1);
    char sig_path[4096];
    if (argc == 2)
        snprintf(sig_path, sizeof sig_path, "%s", argv[1]);
    else if ((size_t)snprintf(sig_path, sizeof sig_path, "%s.sig", argv[0]) >= sizeof sig_path)
        return verify_usage();
    return verify_file(&ring, argv[0], sig_path) ? TOOL_OK : TOOL_FAILED;
}
