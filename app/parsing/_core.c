/* The compiled matching core: a region of whole lines matched against many definitions
 * in one call, points back as Python objects in line order.
 *
 * What it does, and what it leaves to Python (app/parsing/core.py drives it):
 * - Lines are cut as app.parsing.framing cuts them (`\n`, and for text logs `\r\n` and a
 *   lone `\r`) and rendered as app.parsing.lines renders them: a text line loses its ANSI
 *   CSI and OSC sequences and its C0 control characters but tab; a CloudWatch line shows
 *   each control character (tab and DEL too) as `#` and three octal digits. A line that is
 *   not valid UTF-8 (Python's strict reading) or longer than the matching limit is not
 *   matched here: it is handed back ("deferred") for Python to match with the `regex`
 *   module (with the definitions its raw bytes' literals pick, or all where it also holds
 *   a control character), as is every (line, definition) whose search hit PCRE2's match
 *   limit, and every line of a definition once it has used its CPU budget or its
 *   time-outs for the call.
 * - Which lines a definition is searched on: those holding one of its required literals
 *   (app.parsing.literals), found by one Hyperscan scan of the region's raw bytes; a line
 *   with control characters by a scan of its rendered text; a definition without
 *   literals, every line.
 * - A search is PCRE2's (JIT) of the definition's pattern as app.parsing.core_patterns
 *   translated it, on the line's text alone: the leftmost match, as `regex.search`.
 * - A value group that captured an ASCII decimal number becomes the point's float (read by
 *   Python's own `PyOS_string_to_double`, holding the GIL); anything else (no capture,
 *   non-ASCII, `_`, not a finite number) comes back raw, for Python's `parse_value` and
 *   its rejection. The step group likewise: an ASCII integer within 64 bits, else None,
 *   non-ASCII raw.
 * The GIL is released while lines are cut, screened and searched.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <hs/hs.h>

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RENDER_TEXT 0
#define RENDER_CLOUDWATCH 1
/* A definition's CPU clock (a system call) is read once this much wall-clock time (read
 * in user space, never less than the CPU time) has passed since the last reading: it is
 * charged at most this, and one search, late. */
#define CLOCK_AFTER 0.0001

typedef struct {
    pcre2_code *code;
    uint32_t value_group;
    uint32_t step_group; /* 0: none */
    uint32_t groups;
    int always; /* no literal: searched on every line */
} Definition;

typedef struct {
    PyObject_HEAD
    Definition *defs;
    Py_ssize_t ndefs;
    hs_database_t *database; /* NULL: no literals */
    hs_scratch_t *scratch_proto;
    /* literal id -> the definitions (positions) that need it */
    uint32_t **owners;
    uint32_t *nowners;
    Py_ssize_t nliterals;
    int cr_ends;
    int rendering;
    Py_ssize_t max_line_bytes;
    uint32_t match_limit;
    int most_timeouts;
    pthread_mutex_t lock;
    hs_scratch_t **pool;
    int npool;
    int pool_size;
} CoreObject;

/* Growable arrays. */
typedef struct {
    void *data;
    size_t len, cap, item;
} Vec;

static int vec_push(Vec *v, const void *item)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        void *data = realloc(v->data, cap * v->item);
        if (data == NULL)
            return -1;
        v->data = data;
        v->cap = cap;
    }
    memcpy((char *)v->data + v->len * v->item, item, v->item);
    v->len++;
    return 0;
}

/* How a line is matched: its bytes are its text (PLAIN); its text is rendered here
 * (RENDERED); Python matches it, with the definitions its raw bytes' literals pick
 * (HANDED_BACK: not UTF-8, or longer than the limit, but holding no control character, so
 * a literal in its text is one in its bytes) or with every one (HANDED_BACK_WHOLE). */
enum { PLAIN, RENDERED, HANDED_BACK, HANDED_BACK_WHOLE };

typedef struct {
    size_t start, end; /* in the region, without the line end */
    int state;
    size_t text_at;    /* rendered: where its text starts in the render buffer */
    size_t text_len;
} Line;

typedef struct {
    uint32_t line;
    uint32_t def;
} Pair;

enum { KIND_POINT = 0, KIND_RAW = 1 };

typedef struct {
    uint32_t line;
    uint32_t def;
    int kind;
    /* the value's capture (and the step's), copied into the capture buffer */
    size_t value_at, value_len;
    int value_set;
    size_t step_at, step_len;
    int step_set;
} Found;

/* One call's work area. */
typedef struct {
    CoreObject *core;
    const unsigned char *region;
    size_t size;
    Vec lines;     /* Line */
    Vec rendered;  /* char: rendered texts of dirty lines */
    Vec captures;  /* char */
    Vec found;     /* Found */
    Vec deferred;  /* Pair; def == UINT32_MAX: the whole line */
    Vec *hits;     /* per definition: uint32 line indices, in order */
    double *budgets;
    double *spent;
    int *timeouts;
    /* screening state */
    size_t cursor;      /* line index the hits are at */
    uint32_t *last_hit; /* per definition: last line + 1 marked */
    int failed;
} Work;

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Python's strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
                return 0;
            i += 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                return 0;
            if (c == 0xE0 && s[i + 1] < 0xA0)
                return 0;
            if (c == 0xED && s[i + 1] > 0x9F)
                return 0;
            i += 3;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
                (s[i + 3] & 0xC0) != 0x80)
                return 0;
            if (c == 0xF0 && s[i + 1] < 0x90)
                return 0;
            if (c == 0xF4 && s[i + 1] > 0x8F)
                return 0;
            i += 4;
        } else {
            return 0;
        }
    }
    return 1;
}

/* app.parsing.lines' text rendering: CSI and OSC sequences, then C0 controls but tab. */
static int render_text(Vec *out, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0x1B && i + 1 < n && s[i + 1] == '[') {
            size_t j = i + 2;
            while (j < n && s[j] >= 0x30 && s[j] <= 0x3F)
                j++;
            while (j < n && s[j] >= 0x20 && s[j] <= 0x2F)
                j++;
            if (j < n && s[j] >= 0x40 && s[j] <= 0x7E) {
                i = j + 1;
                continue;
            }
        } else if (c == 0x1B && i + 1 < n && s[i + 1] == ']') {
            size_t j = i + 2;
            while (j < n && s[j] != 0x07 && s[j] != 0x1B && s[j] != '\n')
                j++;
            if (j < n && s[j] == 0x07) {
                i = j + 1;
                continue;
            }
            if (j + 1 < n && s[j] == 0x1B && s[j + 1] == '\\') {
                i = j + 2;
                continue;
            }
        }
        if (c < 0x20 && c != '\t') {
            i++;
            continue;
        }
        if (vec_push(out, &s[i]) < 0)
            return -1;
        i++;
    }
    return 0;
}

/* CloudWatch's rendering: each control character (tab and DEL too) as `#ooo`. */
static int render_cloudwatch(Vec *out, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c < 0x20 || c == 0x7F) {
            char octal[5];
            snprintf(octal, sizeof octal, "#%03o", c);
            for (int k = 0; k < 4; k++)
                if (vec_push(out, &octal[k]) < 0)
                    return -1;
        } else if (vec_push(out, &s[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Cut the region into lines, sorting each into plain, rendered or deferred. */
/* Whether all 8 bytes of `word` are printable ASCII (0x20 to 0x7E): no line end, nothing
 * rendering changes, nothing to check as UTF-8 (the bit tricks of "Bit Twiddling Hacks":
 * a byte with its high bit, one below 0x20, one equal to 0x7F). */
static int printable_ascii(uint64_t word)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t below_space = (word - 0x20 * ones) & ~word & highs;
    uint64_t del = word ^ (0x7F * ones);
    del = (del - ones) & ~del & highs;
    return ((word & highs) | below_space | del) == 0;
}

/* Cut the region into lines, sorting each into plain, rendered or handed back: one pass
 * over its bytes, eight at a time while they are printable ASCII. */
static int cut_lines(Work *w)
{
    const unsigned char *r = w->region;
    size_t n = w->size, start = 0;
    CoreObject *core = w->core;
    int cloudwatch = core->rendering == RENDER_CLOUDWATCH;
    while (start < n) {
        size_t end = start;
        int controls = 0, high = 0;
        while (end < n) {
            uint64_t word;
            if (end + 8 <= n) {
                memcpy(&word, r + end, 8);
                if (printable_ascii(word)) {
                    end += 8;
                    continue;
                }
            }
            unsigned char c = r[end];
            if (c == '\n' || (core->cr_ends && c == '\r'))
                break;
            if (c >= 0x80)
                high = 1;
            else if ((c < 0x20 && (c != '\t' || cloudwatch)) || (c == 0x7F && cloudwatch))
                controls = 1;
            end++;
        }
        Line line = {start, end, PLAIN, 0, 0};
        size_t length = end - start;
        if (length > (size_t)core->max_line_bytes || (high && !valid_utf8(r + start, length))) {
            line.state = controls ? HANDED_BACK_WHOLE : HANDED_BACK;
        } else if (controls) {
            line.state = RENDERED;
            line.text_at = w->rendered.len;
            int failed = cloudwatch ? render_cloudwatch(&w->rendered, r + start, length)
                                    : render_text(&w->rendered, r + start, length);
            if (failed)
                return -1;
            line.text_len = w->rendered.len - line.text_at;
        }
        if (vec_push(&w->lines, &line) < 0)
            return -1;
        if (end >= n)
            break;
        start = end + ((core->cr_ends && r[end] == '\r' && end + 1 < n && r[end + 1] == '\n') ? 2 : 1);
    }
    return 0;
}

static void mark(Work *w, uint32_t literal, uint32_t line)
{
    CoreObject *core = w->core;
    for (uint32_t k = 0; k < core->nowners[literal]; k++) {
        uint32_t def = core->owners[literal][k];
        if (w->last_hit[def] == line + 1)
            continue;
        w->last_hit[def] = line + 1;
        if (vec_push(&w->hits[def], &line) < 0)
            w->failed = 1;
    }
}

/* A literal found in the raw region: the plain line it lies in may match its owners. */
static int on_region_hit(unsigned int id, unsigned long long from, unsigned long long to,
                         unsigned int flags, void *context)
{
    (void)from;
    (void)flags;
    Work *w = context;
    Line *lines = w->lines.data;
    size_t at = (size_t)to - 1; /* the literal's last byte: a literal holds no line end */
    size_t index = w->cursor;
    if (index >= w->lines.len || at < lines[index].start || at >= lines[index].end) {
        size_t low = 0, high = w->lines.len; /* the last line starting at or before `at` */
        while (high - low > 1) {
            size_t middle = (low + high) / 2;
            if (lines[middle].start <= at)
                low = middle;
            else
                high = middle;
        }
        index = low;
        w->cursor = index;
    }
    Line *line = &lines[index];
    if ((line->state == PLAIN || line->state == HANDED_BACK) && line->start <= at && at < line->end)
        mark(w, id, (uint32_t)index);
    return w->failed ? 1 : 0;
}

/* A literal found in a rendered line's text. */
static int on_line_hit(unsigned int id, unsigned long long from, unsigned long long to,
                       unsigned int flags, void *context)
{
    (void)from;
    (void)to;
    (void)flags;
    Work *w = context;
    mark(w, id, (uint32_t)w->cursor);
    return w->failed ? 1 : 0;
}

static int line_order(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : (x > y);
}

static hs_scratch_t *take_scratch(CoreObject *core)
{
    hs_scratch_t *scratch = NULL;
    pthread_mutex_lock(&core->lock);
    if (core->npool > 0)
        scratch = core->pool[--core->npool];
    pthread_mutex_unlock(&core->lock);
    if (scratch == NULL && hs_clone_scratch(core->scratch_proto, &scratch) != HS_SUCCESS)
        return NULL;
    return scratch;
}

static void give_scratch(CoreObject *core, hs_scratch_t *scratch)
{
    pthread_mutex_lock(&core->lock);
    if (core->npool < core->pool_size) {
        core->pool[core->npool++] = scratch;
        scratch = NULL;
    }
    pthread_mutex_unlock(&core->lock);
    if (scratch != NULL)
        hs_free_scratch(scratch);
}

/* Which lines each definition is searched on. */
static int screen(Work *w)
{
    CoreObject *core = w->core;
    Line *lines = w->lines.data;
    if (core->database != NULL) {
        hs_scratch_t *scratch = take_scratch(core);
        if (scratch == NULL)
            return -1;
        w->cursor = 0;
        hs_error_t err = HS_SUCCESS;
        if (w->size > 0)
            err = hs_scan(core->database, (const char *)w->region, (unsigned int)w->size, 0,
                          scratch, on_region_hit, w);
        for (size_t i = 0; err == HS_SUCCESS && i < w->lines.len; i++) {
            if (lines[i].state != RENDERED || lines[i].text_len == 0)
                continue;
            w->cursor = i;
            err = hs_scan(core->database, (const char *)w->rendered.data + lines[i].text_at,
                          (unsigned int)lines[i].text_len, 0, scratch, on_line_hit, w);
        }
        give_scratch(core, scratch);
        if (err != HS_SUCCESS || w->failed)
            return -1;
        /* Rendered lines were scanned after the region: each definition's lines in order,
         * each once. */
        for (Py_ssize_t d = 0; d < core->ndefs; d++) {
            uint32_t *found = w->hits[d].data;
            size_t count = w->hits[d].len, kept = 0;
            int sorted = 1;
            for (size_t k = 1; k < count && sorted; k++)
                sorted = found[k - 1] < found[k];
            if (sorted)
                continue;
            qsort(found, count, sizeof(uint32_t), line_order);
            for (size_t k = 0; k < count; k++)
                if (kept == 0 || found[kept - 1] != found[k])
                    found[kept++] = found[k];
            w->hits[d].len = kept;
        }
    }
    for (Py_ssize_t d = 0; d < core->ndefs; d++) {
        if (!core->defs[d].always)
            continue;
        w->hits[d].len = 0;
        for (size_t i = 0; i < w->lines.len; i++) {
            uint32_t line = (uint32_t)i;
            if (lines[i].state != HANDED_BACK_WHOLE && vec_push(&w->hits[d], &line) < 0)
                return -1;
        }
    }
    return 0;
}

static int copy_capture(Work *w, const char *text, PCRE2_SIZE *ovector, uint32_t group,
                        size_t *at, size_t *len, int *set)
{
    PCRE2_SIZE from = ovector[2 * group], to = ovector[2 * group + 1];
    if (from == PCRE2_UNSET) {
        *set = 0;
        return 0;
    }
    *set = 1;
    *at = w->captures.len;
    *len = to - from;
    for (PCRE2_SIZE k = from; k < to; k++)
        if (vec_push(&w->captures, &text[k]) < 0)
            return -1;
    return 0;
}

static int defer(Work *w, uint32_t line, uint32_t def)
{
    Pair pair = {line, def};
    return vec_push(&w->deferred, &pair);
}

/* Search each definition on its lines, within its budget and time-outs. */
static int search(Work *w)
{
    CoreObject *core = w->core;
    Line *lines = w->lines.data;
    uint32_t most_groups = 1;
    for (Py_ssize_t d = 0; d < core->ndefs; d++)
        if (core->defs[d].groups + 1 > most_groups)
            most_groups = core->defs[d].groups + 1;
    pcre2_match_data *md = pcre2_match_data_create(most_groups, NULL);
    pcre2_match_context *mctx = pcre2_match_context_create(NULL);
    pcre2_jit_stack *stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
    int result = 0;
    if (md == NULL || mctx == NULL || stack == NULL) {
        result = -1;
        goto done;
    }
    /* The match limit bounds a JIT search's work; the depth limit is the interpreter's
     * (unused with the JIT, whose stack's 1 MiB cap bounds its depth instead). */
    pcre2_set_match_limit(mctx, core->match_limit);
    pcre2_set_depth_limit(mctx, core->match_limit);
    pcre2_jit_stack_assign(mctx, NULL, stack);
    for (Py_ssize_t d = 0; d < core->ndefs && result == 0; d++) {
        Definition *def = &core->defs[d];
        uint32_t *candidates = w->hits[d].data;
        size_t count = w->hits[d].len;
        double mark_time = thread_cpu(), mark_wall = wall_clock();
        for (size_t k = 0; k < count; k++) {
            uint32_t index = candidates[k];
            double wall = wall_clock();
            if (wall - mark_wall >= CLOCK_AFTER) {
                double now = thread_cpu();
                w->spent[d] += now - mark_time;
                mark_time = now;
                mark_wall = wall;
            }
            if (w->spent[d] >= w->budgets[d] || w->timeouts[d] >= core->most_timeouts) {
                /* Python goes on from here, under its own bounds. */
                for (; k < count; k++)
                    if (defer(w, candidates[k], (uint32_t)d) < 0)
                        result = -1;
                break;
            }
            Line *line = &lines[index];
            if (line->state == HANDED_BACK) { /* Python matches its text */
                if (defer(w, index, (uint32_t)d) < 0)
                    result = -1;
                continue;
            }
            const char *text = line->state == RENDERED
                                   ? (const char *)w->rendered.data + line->text_at
                                   : (const char *)w->region + line->start;
            size_t length = line->state == RENDERED ? line->text_len : line->end - line->start;
            int rc = pcre2_match(def->code, (PCRE2_SPTR)text, length, 0, PCRE2_NO_UTF_CHECK, md,
                                 mctx);
            if (rc == PCRE2_ERROR_NOMATCH)
                continue;
            if (rc < 0) { /* a limit: the `regex` module decides, with its time-out */
                w->timeouts[d]++;
                if (defer(w, index, (uint32_t)d) < 0)
                    result = -1;
                continue;
            }
            PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(md);
            Found found = {index, (uint32_t)d, KIND_POINT, 0, 0, 0, 0, 0, 0};
            if (copy_capture(w, text, ovector, def->value_group, &found.value_at,
                             &found.value_len, &found.value_set) < 0 ||
                (def->step_group &&
                 copy_capture(w, text, ovector, def->step_group, &found.step_at, &found.step_len,
                              &found.step_set) < 0) ||
                vec_push(&w->found, &found) < 0) {
                result = -1;
                break;
            }
        }
        w->spent[d] += thread_cpu() - mark_time;
    }
done:
    if (stack)
        pcre2_jit_stack_free(stack);
    if (mctx)
        pcre2_match_context_free(mctx);
    if (md)
        pcre2_match_data_free(md);
    return result;
}

static int is_strip_space(unsigned char c)
{
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
}

/* The capture stripped as `str.strip` does, if it is all ASCII without `_`; else -1. */
static int stripped_ascii(const char *s, size_t n, size_t *from, size_t *to)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == '_')
            return -1;
    size_t a = 0, b = n;
    while (a < b && is_strip_space((unsigned char)s[a]))
        a++;
    while (b > a && is_strip_space((unsigned char)s[b - 1]))
        b--;
    *from = a;
    *to = b;
    return 0;
}

/* app.parsing.values' _DECIMAL, whole. */
static int decimal(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exponent = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exponent++;
        if (exponent == 0)
            return 0;
    }
    return i == n;
}

/* A step's capture: 1 and the step; 0 for None; -1 for Python to read. */
static int read_step(const char *s, size_t n, long long *step)
{
    size_t a, b;
    if (stripped_ascii(s, n, &a, &b) < 0)
        return -1;
    size_t i = a;
    int negative = 0;
    if (i < b && (s[i] == '+' || s[i] == '-'))
        negative = s[i++] == '-';
    if (i == b)
        return 0;
    unsigned long long magnitude = 0;
    for (; i < b; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        unsigned digit = (unsigned)(s[i] - '0');
        if (magnitude > (ULLONG_MAX - digit) / 10)
            return 0;
        magnitude = magnitude * 10 + digit;
    }
    if (negative) {
        if (magnitude > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *step = magnitude == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)magnitude;
    } else {
        if (magnitude > (unsigned long long)LLONG_MAX)
            return 0;
        *step = (long long)magnitude;
    }
    return 1;
}

/* With the GIL: the value of a point, or 0 when Python must read the capture. */
static int read_value(const char *s, size_t n, double *value)
{
    size_t a, b;
    if (stripped_ascii(s, n, &a, &b) < 0 || !decimal(s + a, b - a))
        return 0;
    char buffer[128];
    char *text = b - a < sizeof buffer ? buffer : PyMem_Malloc(b - a + 1);
    if (text == NULL)
        return 0;
    memcpy(text, s + a, b - a);
    text[b - a] = '\0';
    double v = PyOS_string_to_double(text, NULL, NULL);
    if (text != buffer)
        PyMem_Free(text);
    if (v == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (!isfinite(v))
        return 0;
    *value = v;
    return 1;
}

static PyObject *capture_str(Work *w, size_t at, size_t len, int set)
{
    if (!set)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8((const char *)w->captures.data + at, (Py_ssize_t)len, "strict");
}

static int by_line(const void *a, const void *b)
{
    const Found *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->def < y->def ? -1 : (x->def > y->def);
}

static int pair_order(const void *a, const void *b)
{
    const Pair *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->def < y->def ? -1 : (x->def > y->def);
}

static void work_free(Work *w, Py_ssize_t ndefs)
{
    free(w->lines.data);
    free(w->rendered.data);
    free(w->captures.data);
    free(w->found.data);
    free(w->deferred.data);
    if (w->hits)
        for (Py_ssize_t d = 0; d < ndefs; d++)
            free(w->hits[d].data);
    free(w->hits);
    free(w->budgets);
    free(w->spent);
    free(w->timeouts);
    free(w->last_hit);
}

/* The Python results: points, raw matches, deferred work, CPU seconds per definition,
 * searches that hit the match limit per definition, and the lines counted. */
static PyObject *results(Work *w, PyObject *names, PyObject *point_type, long long base,
                         long long first_line)
{
    CoreObject *core = w->core;
    Line *lines = w->lines.data;
    Found *found = w->found.data;
    PyObject *points = PyList_New(0), *raws = PyList_New(0), *deferred = PyList_New(0);
    PyObject *spent = PyList_New(core->ndefs), *timeouts = PyList_New(core->ndefs);
    PyObject *result = NULL;
    if (!points || !raws || !deferred || !spent || !timeouts)
        goto fail;
    qsort(found, w->found.len, sizeof(Found), by_line);
    for (size_t i = 0; i < w->found.len; i++) {
        Found *f = &found[i];
        Line *line = &lines[f->line];
        const char *captures = w->captures.data;
        double value = 0.0;
        long long step = 0;
        int has_value = f->value_set && read_value(captures + f->value_at, f->value_len, &value);
        int step_read = 0; /* 1: a step, 0: None, -1: Python reads it */
        if (core->defs[f->def].step_group && f->step_set)
            step_read = read_step(captures + f->step_at, f->step_len, &step);
        PyObject *number = PyLong_FromLongLong(first_line + (long long)f->line);
        PyObject *offset = PyLong_FromLongLong(base + (long long)line->start);
        if (!number || !offset) {
            Py_XDECREF(number);
            Py_XDECREF(offset);
            goto fail;
        }
        PyObject *item;
        if (has_value && step_read >= 0) {
            PyTypeObject *type = (PyTypeObject *)point_type;
            item = type->tp_alloc(type, 5);
            if (item == NULL) {
                Py_DECREF(number);
                Py_DECREF(offset);
                goto fail;
            }
            PyObject *name = PyTuple_GET_ITEM(names, f->def);
            Py_INCREF(name);
            PyTuple_SET_ITEM(item, 0, name);
            PyTuple_SET_ITEM(item, 1, PyFloat_FromDouble(value));
            if (step_read == 1) {
                PyTuple_SET_ITEM(item, 2, PyLong_FromLongLong(step));
            } else {
                Py_INCREF(Py_None);
                PyTuple_SET_ITEM(item, 2, Py_None);
            }
            PyTuple_SET_ITEM(item, 3, number);
            PyTuple_SET_ITEM(item, 4, offset);
            if (!PyTuple_GET_ITEM(item, 1) || !PyTuple_GET_ITEM(item, 2)) {
                Py_DECREF(item);
                goto fail;
            }
            if (PyList_Append(points, item) < 0) {
                Py_DECREF(item);
                goto fail;
            }
        } else {
            PyObject *value_text = capture_str(w, f->value_at, f->value_len, f->value_set);
            PyObject *step_text = core->defs[f->def].step_group
                                      ? capture_str(w, f->step_at, f->step_len, f->step_set)
                                      : (Py_INCREF(Py_None), Py_None);
            if (!value_text || !step_text) {
                Py_XDECREF(value_text);
                Py_XDECREF(step_text);
                Py_DECREF(number);
                Py_DECREF(offset);
                goto fail;
            }
            item = Py_BuildValue("(nNNNN)", (Py_ssize_t)f->def, number, offset, value_text,
                                 step_text);
            if (item == NULL || PyList_Append(raws, item) < 0) {
                Py_XDECREF(item);
                goto fail;
            }
        }
        Py_DECREF(item);
    }
    /* Deferred: whole lines Python must match, then (line, definition) pairs. */
    Pair *pairs = w->deferred.data;
    for (size_t i = 0; i < w->lines.len; i++) {
        if (lines[i].state != HANDED_BACK_WHOLE)
            continue;
        Pair pair = {(uint32_t)i, UINT32_MAX};
        if (vec_push(&w->deferred, &pair) < 0) {
            PyErr_NoMemory();
            goto fail;
        }
        pairs = w->deferred.data;
    }
    qsort(pairs, w->deferred.len, sizeof(Pair), pair_order);
    for (size_t i = 0; i < w->deferred.len; i++) {
        Line *line = &lines[pairs[i].line];
        PyObject *item = Py_BuildValue(
            "(LLnnn)", first_line + (long long)pairs[i].line, base + (long long)line->start,
            (Py_ssize_t)line->start, (Py_ssize_t)line->end,
            pairs[i].def == UINT32_MAX ? (Py_ssize_t)-1 : (Py_ssize_t)pairs[i].def);
        if (item == NULL || PyList_Append(deferred, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    for (Py_ssize_t d = 0; d < core->ndefs; d++) {
        PyObject *seconds = PyFloat_FromDouble(w->spent[d]);
        PyObject *count = PyLong_FromLong(w->timeouts[d]);
        if (!seconds || !count) {
            Py_XDECREF(seconds);
            Py_XDECREF(count);
            goto fail;
        }
        PyList_SET_ITEM(spent, d, seconds);
        PyList_SET_ITEM(timeouts, d, count);
    }
    result = Py_BuildValue("(NNNNNn)", points, raws, deferred, spent, timeouts,
                           (Py_ssize_t)w->lines.len);
    return result;
fail:
    Py_XDECREF(points);
    Py_XDECREF(raws);
    Py_XDECREF(deferred);
    Py_XDECREF(spent);
    Py_XDECREF(timeouts);
    return NULL;
}

static PyObject *Core_scan(CoreObject *self, PyObject *args)
{
    Py_buffer region;
    long long base, first_line;
    PyObject *budgets, *names, *point_type;
    if (!PyArg_ParseTuple(args, "y*LLOOO", &region, &base, &first_line, &budgets, &names,
                          &point_type))
        return NULL;
    PyObject *result = NULL;
    Work w;
    memset(&w, 0, sizeof w);
    w.core = self;
    w.region = region.buf;
    w.size = (size_t)region.len;
    w.lines.item = sizeof(Line);
    w.rendered.item = 1;
    w.captures.item = 1;
    w.found.item = sizeof(Found);
    w.deferred.item = sizeof(Pair);
    Py_ssize_t n = self->ndefs;
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != n || !PyType_Check(point_type) ||
        !PyType_IsSubtype((PyTypeObject *)point_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "names: a tuple of one str a definition; point_type: a tuple type");
        goto end;
    }
    PyObject *seq = PySequence_Fast(budgets, "budgets must be a sequence");
    if (seq == NULL)
        goto end;
    if (PySequence_Fast_GET_SIZE(seq) != n) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "one budget a definition");
        goto end;
    }
    w.hits = calloc((size_t)n + 1, sizeof(Vec));
    w.budgets = calloc((size_t)n + 1, sizeof(double));
    w.spent = calloc((size_t)n + 1, sizeof(double));
    w.timeouts = calloc((size_t)n + 1, sizeof(int));
    w.last_hit = calloc((size_t)n + 1, sizeof(uint32_t));
    if (!w.hits || !w.budgets || !w.spent || !w.timeouts || !w.last_hit) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        goto end;
    }
    for (Py_ssize_t d = 0; d < n; d++) {
        w.hits[d].item = sizeof(uint32_t);
        w.budgets[d] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(seq, d));
    }
    Py_DECREF(seq);
    if (PyErr_Occurred())
        goto end;
    const char *failed = NULL; /* the step that could not allocate, or Hyperscan's scan */
    Py_BEGIN_ALLOW_THREADS
    if (cut_lines(&w) < 0)
        failed = "cutting and rendering the lines";
    else if (screen(&w) < 0)
        failed = "the literal scan";
    else if (search(&w) < 0)
        failed = "the search";
    Py_END_ALLOW_THREADS
    if (failed != NULL) {
        PyErr_Format(PyExc_MemoryError, "the compiled core could not finish the region: %s failed",
                     failed);
        goto end;
    }
    result = results(&w, names, point_type, base, first_line);
end:
    work_free(&w, n);
    PyBuffer_Release(&region);
    return result;
}

static void Core_dealloc(CoreObject *self)
{
    for (Py_ssize_t d = 0; d < self->ndefs; d++)
        pcre2_code_free(self->defs[d].code);
    free(self->defs);
    for (Py_ssize_t i = 0; i < self->nliterals; i++)
        free(self->owners[i]);
    free(self->owners);
    free(self->nowners);
    for (int i = 0; i < self->npool; i++)
        hs_free_scratch(self->pool[i]);
    free(self->pool);
    if (self->scratch_proto)
        hs_free_scratch(self->scratch_proto);
    if (self->database)
        hs_free_database(self->database);
    pthread_mutex_destroy(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *core_error;

/* Core(definitions, literals, cr_ends, rendering, max_line_bytes, match_limit,
 *      most_timeouts)
 * definitions: [(pattern: bytes (UTF-8), value_group: int, step_group: int (0: none),
 *                always: bool)]
 * literals: [(text: bytes, caseless: bool, owners: [definition position])] */
static PyObject *Core_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *definitions, *literals;
    int cr_ends, rendering, most_timeouts;
    Py_ssize_t max_line_bytes;
    unsigned long match_limit;
    static char *keywords[] = {"definitions", "literals",    "cr_ends",       "rendering",
                               "max_line_bytes", "match_limit", "most_timeouts", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOppnki", keywords, &definitions, &literals,
                                     &cr_ends, &rendering, &max_line_bytes, &match_limit,
                                     &most_timeouts))
        return NULL;
    CoreObject *self = (CoreObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->cr_ends = cr_ends;
    self->rendering = rendering;
    self->max_line_bytes = max_line_bytes;
    self->match_limit = (uint32_t)match_limit;
    self->most_timeouts = most_timeouts;
    self->pool_size = 8;
    self->pool = calloc((size_t)self->pool_size, sizeof(hs_scratch_t *));
    PyObject *defs = PySequence_Fast(definitions, "definitions must be a sequence");
    PyObject *lits = defs ? PySequence_Fast(literals, "literals must be a sequence") : NULL;
    if (lits == NULL || self->pool == NULL)
        goto fail;
    self->ndefs = PySequence_Fast_GET_SIZE(defs);
    self->defs = calloc((size_t)self->ndefs + 1, sizeof(Definition));
    if (self->defs == NULL)
        goto fail;
    for (Py_ssize_t d = 0; d < self->ndefs; d++) {
        const char *pattern;
        Py_ssize_t length;
        unsigned int value_group, step_group;
        int always;
        PyObject *item = PySequence_Fast_GET_ITEM(defs, d);
        if (!PyTuple_Check(item)) {
            PyErr_Format(PyExc_TypeError, "definition %zd: a tuple is needed", d);
            goto fail;
        }
        if (!PyArg_ParseTuple(item, "y#IIp", &pattern, &length,
                              &value_group, &step_group, &always))
            goto fail;
        int code;
        PCRE2_SIZE where;
        pcre2_code *compiled = pcre2_compile((PCRE2_SPTR)pattern, (PCRE2_SIZE)length,
                                             PCRE2_UTF, &code, &where, NULL);
        if (compiled == NULL) {
            PCRE2_UCHAR message[256];
            pcre2_get_error_message(code, message, sizeof message);
            PyErr_Format(core_error, "definition %zd: PCRE2 refused it at %zu: %s", d,
                         (size_t)where, (char *)message);
            goto fail;
        }
        self->defs[d].code = compiled;
        if (pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE) != 0) {
            PyErr_Format(core_error, "definition %zd: PCRE2's JIT could not compile it", d);
            goto fail;
        }
        uint32_t groups;
        pcre2_pattern_info(compiled, PCRE2_INFO_CAPTURECOUNT, &groups);
        if (value_group > groups || step_group > groups) {
            PyErr_Format(core_error, "definition %zd: no group %u", d,
                         value_group > groups ? value_group : step_group);
            goto fail;
        }
        self->defs[d].value_group = value_group;
        self->defs[d].step_group = step_group;
        self->defs[d].groups = groups;
        self->defs[d].always = always;
    }
    self->nliterals = PySequence_Fast_GET_SIZE(lits);
    if (self->nliterals > 0) {
        Py_ssize_t n = self->nliterals;
        const char **texts = calloc((size_t)n, sizeof(char *));
        size_t *lengths = calloc((size_t)n, sizeof(size_t));
        unsigned int *flags = calloc((size_t)n, sizeof(unsigned int));
        unsigned int *ids = calloc((size_t)n, sizeof(unsigned int));
        self->owners = calloc((size_t)n, sizeof(uint32_t *));
        self->nowners = calloc((size_t)n, sizeof(uint32_t));
        int ok = texts && lengths && flags && ids && self->owners && self->nowners;
        for (Py_ssize_t i = 0; ok && i < n; i++) {
            const char *text;
            Py_ssize_t length;
            int caseless;
            PyObject *owners;
            PyObject *item = PySequence_Fast_GET_ITEM(lits, i);
            if (!PyTuple_Check(item)) {
                PyErr_Format(PyExc_TypeError, "literal %zd: a tuple is needed", i);
                ok = 0;
                break;
            }
            if (!PyArg_ParseTuple(item, "y#pO", &text, &length,
                                  &caseless, &owners)) {
                ok = 0;
                break;
            }
            PyObject *owned = PySequence_Fast(owners, "owners must be a sequence");
            if (owned == NULL) {
                ok = 0;
                break;
            }
            Py_ssize_t m = PySequence_Fast_GET_SIZE(owned);
            self->owners[i] = calloc((size_t)m + 1, sizeof(uint32_t));
            self->nowners[i] = (uint32_t)m;
            for (Py_ssize_t k = 0; self->owners[i] && k < m; k++) {
                Py_ssize_t position = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(owned, k));
                if (position < 0 || position >= self->ndefs) {
                    if (!PyErr_Occurred())
                        PyErr_SetString(PyExc_ValueError, "a literal's owner is no definition");
                    ok = 0;
                    break;
                }
                self->owners[i][k] = (uint32_t)position;
            }
            Py_DECREF(owned);
            if (self->owners[i] == NULL)
                ok = 0;
            texts[i] = text;
            lengths[i] = (size_t)length;
            flags[i] = caseless ? HS_FLAG_CASELESS : 0;
            ids[i] = (unsigned int)i;
        }
        hs_compile_error_t *error = NULL;
        if (ok && hs_compile_lit_multi(texts, flags, ids, lengths, (unsigned int)n,
                                       HS_MODE_BLOCK, NULL, &self->database,
                                       &error) != HS_SUCCESS) {
            PyErr_Format(core_error, "Hyperscan refused the literals: %s",
                         error ? error->message : "?");
            hs_free_compile_error(error);
            ok = 0;
        }
        free(texts);
        free(lengths);
        free(flags);
        free(ids);
        if (!ok) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            goto fail;
        }
        if (hs_alloc_scratch(self->database, &self->scratch_proto) != HS_SUCCESS) {
            PyErr_SetString(core_error, "Hyperscan could not allocate its scratch space");
            goto fail;
        }
    }
    Py_DECREF(defs);
    Py_DECREF(lits);
    return (PyObject *)self;
fail:
    Py_XDECREF(defs);
    Py_XDECREF(lits);
    Py_DECREF(self);
    return NULL;
}

static PyMethodDef Core_methods[] = {
    {"scan", (PyCFunction)Core_scan, METH_VARARGS,
     "scan(region, base, first_line, budgets, names, point_type) -> (points, raws, deferred, "
     "spent, limits_hit, lines)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "app.parsing._core.Core",
    .tp_basicsize = sizeof(CoreObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A job's definitions compiled for PCRE2's JIT, their literals for Hyperscan.",
    .tp_new = Core_new,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_methods = Core_methods,
};

static PyObject *versions(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    char pcre[64];
    pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    return Py_BuildValue("(ssO)", pcre, hs_version(), jit ? Py_True : Py_False);
}

static PyMethodDef module_methods[] = {
    {"versions", versions, METH_NOARGS,
     "(PCRE2's version, Hyperscan's version, whether PCRE2 has its JIT)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "app.parsing._core",
    "The compiled matching core (see app/parsing/core.py).", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void)
{
    if (PyType_Ready(&CoreType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    core_error = PyErr_NewException("app.parsing._core.CoreError", PyExc_ValueError, NULL);
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(m, "Core", (PyObject *)&CoreType) < 0 ||
        PyModule_AddObject(m, "CoreError", core_error) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
