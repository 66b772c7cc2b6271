/* env_expand.c: "${NAME}" and "${file:PATH}" in configuration strings, so
 * secrets can stay out of the file.
 *
 * ${NAME} is replaced by the environment variable's value. ${file:PATH} by
 * the contents of the file PATH, without its trailing line end(s): what
 * Docker/Podman secrets (/run/secrets/NAME) and systemd credentials
 * (LoadCredential=, $CREDENTIALS_DIRECTORY/NAME) hand a process, so neither
 * needs an environment variable. PATH may itself use ${NAME}
 * ("${file:${CREDENTIALS_DIRECTORY}/jortt_secret}") and must then be
 * absolute. An unset variable, or a file that is missing, unreadable, not a
 * regular file (a FIFO would hang the load), empty after the line end, larger than M2J_CFG_SECRET_FILE_MAX or holding a NUL
 * byte, is an error naming it and the key: an empty webhook secret or API
 * key picked up silently would fail much later and further from the cause.
 * Error messages never quote a value or a file's contents. Values are not
 * expanded again (a secret may contain "${"). */
#include "config/config_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_PREFIX     "file:"
#define FILE_PREFIX_LEN 5

static bool env_name_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

/* The end of a "${" ... "}" whose body starts at p: the matching '}', with
 * "${" ... "}" inside counted (a file path may use a variable). NULL when
 * it never closes. */
static const char *closing_brace(const char *p)
{
    int depth = 1;
    for (; *p; p++) {
        if (p[0] == '$' && p[1] == '{') {
            depth++;
            p++;
        } else if (*p == '}' && --depth == 0) {
            return p;
        }
    }
    return NULL;
}

/* Appends the file's contents (trailing "\n" / "\r\n" dropped) to b. */
static m2j_rc append_file(m2j_buf *b, const char *file, const m2j_buf *path, m2j_err *err)
{
    if (file[0] != '/')
        return m2j_fail(err, M2J_ERR_INVALID, "%s: ${file:%.200s}: the path must be absolute", CFG_PATH(path), file);
    /* O_NONBLOCK: a FIFO or a device must not hang the load in open() or
     * read(); only a regular file is a secret file. */
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) cannot be read: %s", file, CFG_PATH(path),
                        strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        close(fd);
        return m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) is %s, not a secret file", file,
                        CFG_PATH(path), dir ? "a directory" : "not a regular file");
    }
    size_t start = b->len;
    m2j_rc rc = M2J_OK;
    char chunk[4096];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) cannot be read: %s", file, CFG_PATH(path),
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if (b->len - start + (size_t)n > M2J_CFG_SECRET_FILE_MAX) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) is larger than %d bytes: not a secret",
                          file, CFG_PATH(path), M2J_CFG_SECRET_FILE_MAX);
            break;
        }
        if (memchr(chunk, '\0', (size_t)n)) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) holds a NUL byte", file, CFG_PATH(path));
            break;
        }
        if ((rc = m2j_buf_append(b, chunk, (size_t)n)) != M2J_OK)
            break;
    }
    close(fd);
    /* What the secret was is not left behind in freed memory of the buffer's
     * spare room either way; the caller owns the rest. */
    explicit_bzero(chunk, sizeof chunk);
    if (rc != M2J_OK)
        return rc;
    while (b->len > start && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
        b->data[--b->len] = '\0';
    if (b->len == start)
        return m2j_fail(err, M2J_ERR_INVALID, "file %.200s (used by %s) is empty", file, CFG_PATH(path));
    return M2J_OK;
}

static m2j_rc expand(const char *in, const m2j_buf *path, bool allow_file, m2j_buf *b, m2j_err *err)
{
    const char *p = in;
    while (*p) {
        const char *d = strstr(p, "${");
        if (!d)
            return m2j_buf_puts(b, p);
        m2j_rc rc = m2j_buf_append(b, p, (size_t)(d - p));
        if (rc != M2J_OK)
            return rc;
        const char *name = d + 2;
        bool is_file = strncmp(name, FILE_PREFIX, FILE_PREFIX_LEN) == 0;
        const char *end = is_file ? closing_brace(name) : strchr(name, '}');
        if (!end)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: \"${\" without closing \"}\"", CFG_PATH(path));
        size_t n = (size_t)(end - name);
        if (is_file) {
            if (!allow_file)
                return m2j_fail(err, M2J_ERR_INVALID, "%s: ${file:...} cannot be nested", CFG_PATH(path));
            char *raw = strndup(name + FILE_PREFIX_LEN, n - FILE_PREFIX_LEN);
            if (!raw)
                return M2J_ERR_NOMEM;
            m2j_buf fp = {0};
            rc = expand(raw, path, false, &fp, err);
            free(raw);
            if (rc == M2J_OK && fp.len == 0)
                rc = m2j_fail(err, M2J_ERR_INVALID, "%s: ${file:} names no file", CFG_PATH(path));
            if (rc == M2J_OK)
                rc = append_file(b, fp.data, path, err);
            m2j_buf_free(&fp);
            if (rc != M2J_OK)
                return rc;
            p = end + 1;
            continue;
        }
        bool ok = n > 0;
        for (size_t i = 0; i < n && ok; i++)
            ok = env_name_char(name[i], i == 0);
        if (!ok)
            return m2j_fail(err, M2J_ERR_INVALID, "%s: \"${%.*s}\" is not a valid environment variable name",
                            CFG_PATH(path), (int)(n > 64 ? 64 : n), name);
        char *var = strndup(name, n);
        if (!var)
            return M2J_ERR_NOMEM;
        const char *val = getenv(var);
        if (!val) {
            rc = m2j_fail(err, M2J_ERR_INVALID, "environment variable %s (used by %s) is not set", var,
                          CFG_PATH(path));
            free(var);
            return rc;
        }
        free(var);
        if ((rc = m2j_buf_puts(b, val)) != M2J_OK)
            return rc;
        p = end + 1;
    }
    return M2J_OK;
}

m2j_rc m2j_cfg_expand_env(const char *in, const m2j_buf *path, char **out, m2j_err *err)
{
    m2j_buf b = {0};
    m2j_rc rc = expand(in, path, true, &b, err);
    if (rc == M2J_OK) {
        *out = m2j_buf_detach(&b);
        if (*out)
            return M2J_OK;
        rc = M2J_ERR_NOMEM;
    }
    if (rc == M2J_ERR_NOMEM)
        m2j_fail(err, rc, "out of memory loading configuration");
    if (b.data)
        explicit_bzero(b.data, b.cap);
    m2j_buf_free(&b);
    return rc;
}
