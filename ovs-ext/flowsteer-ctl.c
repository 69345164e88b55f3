/*
 * flowsteer-ctl: the admin's command line for the Flowsteer database (the
 * fleet's policies, profiles, chassis and migrations), built on
 * libopenvswitch's db-ctl-base as ovn-nbctl and vtep-ctl are: the generic
 * database commands (list, get, set, create, destroy, wait-until, ...)
 * come with it, and the commands below speak of policies and chassis.
 *
 * A policy's rules are checked with the inspector's own parser before they
 * are written, so a typo is refused here, with its line and column, rather
 * than by every chassis.  Each change of a policy's rules adds one to its
 * version, in the same transaction, verified: two admins changing one
 * policy at once both land, one after the other (the IDL retries), and no
 * chassis sees new rules under an old version.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command-line.h"
#include "db-ctl-base.h"
#include "fatal-signal.h"
#include "flowsteer/inspector.h"
#include "fs-fleet.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "process.h"
#include "ovs-ext/flowsteer-idl.h"
#include "ovsdb-data.h"
#include "ovsdb-idl.h"
#include "stream-ssl.h"
#include "stream.h"
#include "table.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flowsteer_ctl);

/* Where the database is when --db is not given: FLOWSTEER_DB, else the
 * unix socket of a member started by flowsteer-cluster in its default
 * directory. */
#define DEFAULT_DB "unix:/var/run/flowsteer/db.sock"

static const char *db;
static unsigned int timeout;    /* --timeout: seconds, 0 for none. */
static bool oneline;
static bool dry_run;
static bool leader_only = true;
static struct table_style table_style = TABLE_STYLE_DEFAULT;
static bool format_given;       /* --format, --json or --bare. */

static struct ovsdb_idl *the_idl;
static struct ovsdb_idl_txn *the_idl_txn;

OVS_NO_RETURN static void usage(void);

/* ---------------------------------------------------------------------- */
/* Helpers for the commands. */

static const struct fsrec_flowsteer_global *
global_row(struct ctl_context *ctx)
{
    const struct fsrec_flowsteer_global *g
        = fsrec_flowsteer_global_first(ctx->idl);

    if (!g && ctx->txn) {
        g = fsrec_flowsteer_global_insert(ctx->txn);
    }
    return g;
}

static const struct fsrec_policy *
policy_by_name(struct ctl_context *ctx, const char *name, bool must_exist)
{
    const struct fsrec_policy *p;

    FSREC_POLICY_FOR_EACH (p, ctx->idl) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    if (must_exist) {
        ctl_error(ctx, "%s: no policy of that name", name);
    }
    return NULL;
}

static const struct fsrec_profile *
profile_by_name(struct ctl_context *ctx, const char *name, bool must_exist)
{
    const struct fsrec_profile *p;

    FSREC_PROFILE_FOR_EACH (p, ctx->idl) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    if (must_exist) {
        ctl_error(ctx, "%s: no profile of that name", name);
    }
    return NULL;
}

/* A policy or profile name: what a chassis can log and flowsteer-profile
 * can name (fs-config.c's rule for profiles). */
static bool
check_name(struct ctl_context *ctx, const char *what, const char *name)
{
    if (!*name || strlen(name) > 64 || strpbrk(name, " ,=\t\"#\n")) {
        ctl_error(ctx, "\"%s\": a %s name is 1 to 64 characters, without "
                  "spaces, commas, '=', '#' or quotes", name, what);
        return false;
    }
    return true;
}

/* Checks 'text' with the inspector's parser, as every chassis will.
 * Returns false, with the parser's message in ctx's error, if it is
 * refused. */
static bool
check_rules(struct ctl_context *ctx, const char *name, const char *text)
{
    struct fs_inspector *insp;
    char err[512] = "";
    int error;

    error = fs_inspector_create(NULL, &insp);
    if (error) {
        ctl_error(ctx, "cannot check the rules: %s", ovs_strerror(-error));
        return false;
    }
    error = fs_inspector_set_policy(insp, name, text, NULL, err, sizeof err);
    fs_inspector_destroy(insp);
    if (error) {
        ctl_error(ctx, "%s", err[0] ? err : ovs_strerror(-error));
        return false;
    }
    return true;
}

/* The contents of 'path' ("-": standard input, read once and kept, since
 * a command may run again when its transaction must be retried), or NULL
 * with an error in 'ctx'. */
static char *
read_rules(struct ctl_context *ctx, const char *path)
{
    static char *stdin_text;
    struct ds ds = DS_EMPTY_INITIALIZER;
    FILE *file;
    int c;

    if (!strcmp(path, "-") && stdin_text) {
        return xstrdup(stdin_text);
    }
    file = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!file) {
        ctl_error(ctx, "%s: %s", path, ovs_strerror(errno));
        return NULL;
    }
    while ((c = getc(file)) != EOF) {
        if (c == '\0') {
            ctl_error(ctx, "%s: a policy is text; this holds a NUL byte",
                      path);
            break;
        }
        ds_put_char(&ds, c);
    }
    if (!ctx->error && ferror(file)) {
        ctl_error(ctx, "%s: %s", path, ovs_strerror(errno));
    }
    if (file != stdin) {
        fclose(file);
    }
    if (ctx->error) {
        ds_destroy(&ds);
        return NULL;
    }
    if (file == stdin) {
        stdin_text = xstrdup(ds_cstr(&ds));
    }
    return ds_steal_cstr(&ds);
}

/* Gives 'p' the rules 'text', checked, and the next version. */
static void
policy_write(struct ctl_context *ctx, const struct fsrec_policy *p,
             const char *text)
{
    if (!check_rules(ctx, p->name, text)) {
        return;
    }
    fsrec_policy_verify_version(p);
    fsrec_policy_set_rules(p, text);
    fsrec_policy_set_version(p, p->version + 1);
}

/* The number of rules in 'text': its lines that are not blank, comments
 * or continuations. */
static size_t
count_rules(const char *text)
{
    size_t n = 0;

    for (const char *line = text; line && *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) : strlen(line);
        size_t skip = strspn(line, " \t");

        if (skip < len && line[skip] != '#' && line[skip] != '\r') {
            n += skip == 0;
        }
        line = end ? end + 1 : NULL;
    }
    return n;
}

static struct table *
new_table(struct ctl_context *ctx, const char *first, ...)
{
    struct table *t = xmalloc(sizeof *t);
    va_list args;

    table_init(t);
    va_start(args, first);
    for (const char *h = first; h; h = va_arg(args, const char *)) {
        table_add_column(t, "%s", h);
    }
    va_end(args);
    ctx->table = t;
    return t;
}

static void OVS_PRINTF_FORMAT(2, 3)
cell(struct table *t, const char *format, ...)
{
    struct cell *c = table_add_cell(t);
    va_list args;

    va_start(args, format);
    c->text = xvasprintf(format, args);
    va_end(args);
}

static void
pre_all(struct ctl_context *ctx)
{
    for (size_t i = 0; i < FSREC_N_TABLES; i++) {
        const struct ovsdb_idl_table_class *tc = &fsrec_table_classes[i];

        for (size_t j = 0; j < tc->n_columns; j++) {
            ovsdb_idl_add_column(ctx->idl, &tc->columns[j]);
        }
    }
}

/* ---------------------------------------------------------------------- */
/* Commands. */

static void
cmd_init(struct ctl_context *ctx)
{
    global_row(ctx);
}

static void
cmd_show(struct ctl_context *ctx)
{
    const struct fsrec_flowsteer_global *g
        = fsrec_flowsteer_global_first(ctx->idl);
    const struct fsrec_policy *p;
    const struct fsrec_profile *pr;
    const struct fsrec_chassis *ch;
    const struct fsrec_migration *m;
    long long int now = time_wall_msec();

    if (!g) {
        ds_put_cstr(&ctx->output, "no Flowsteer_Global row "
                    "(run \"flowsteer-ctl init\")\n");
    } else if (g->policy) {
        ds_put_format(&ctx->output, "policy in force: %s (version %"PRId64
                      ")\n", g->policy->name, g->policy->version);
    } else {
        ds_put_cstr(&ctx->output, "policy in force: none (chassis keep "
                    "their own, or their fail mode)\n");
    }
    FSREC_POLICY_FOR_EACH (p, ctx->idl) {
        ds_put_format(&ctx->output, "policy %s: version %"PRId64", %"
                      PRIuSIZE" rules\n", p->name, p->version,
                      count_rules(p->rules));
    }
    FSREC_PROFILE_FOR_EACH (pr, ctx->idl) {
        ds_put_format(&ctx->output, "profile %s: policy %s\n", pr->name,
                      pr->policy ? pr->policy->name : "(the global one)");
    }
    FSREC_CHASSIS_FOR_EACH (ch, ctx->idl) {
        ds_put_format(&ctx->output, "chassis %s (%s): policy %s version %"
                      PRId64", migration %s, heard from %lld s ago\n",
                      ch->name, ch->hostname[0] ? ch->hostname : "-",
                      ch->policy_name[0] ? ch->policy_name : "-",
                      ch->policy_version,
                      ch->migration_remote[0] ? ch->migration_remote : "-",
                      ch->heartbeat ? (now - ch->heartbeat) / 1000 : -1LL);
    }
    FSREC_MIGRATION_FOR_EACH (m, ctx->idl) {
        ds_put_format(&ctx->output, "migration %s: %s -> %s, %s\n",
                      m->iface_id, m->source, m->destination, m->state);
    }
}

static void
cmd_policy_add(struct ctl_context *ctx)
{
    const char *name = ctx->argv[1];
    bool may_exist = shash_find(&ctx->options, "--may-exist") != NULL;
    char *text = NULL;

    if (!check_name(ctx, "policy", name)) {
        return;
    }
    if (policy_by_name(ctx, name, false)) {
        if (!may_exist) {
            ctl_error(ctx, "%s: a policy of that name exists", name);
        }
        return;
    }
    if (ctx->argc > 2) {
        text = read_rules(ctx, ctx->argv[2]);
        if (!text || !check_rules(ctx, name, text)) {
            free(text);
            return;
        }
    }
    struct fsrec_policy *p = fsrec_policy_insert(ctx->txn);
    fsrec_policy_set_name(p, name);
    fsrec_policy_set_rules(p, text ? text : "");
    fsrec_policy_set_version(p, 1);
    free(text);
}

static void
cmd_policy_set(struct ctl_context *ctx)
{
    const struct fsrec_policy *p = policy_by_name(ctx, ctx->argv[1], true);
    char *text;

    if (!p || !(text = read_rules(ctx, ctx->argv[2]))) {
        return;
    }
    policy_write(ctx, p, text);
    free(text);
}

static void
cmd_policy_del(struct ctl_context *ctx)
{
    bool must_exist = !shash_find(&ctx->options, "--if-exists");
    const struct fsrec_policy *p = policy_by_name(ctx, ctx->argv[1],
                                                  must_exist);
    const struct fsrec_flowsteer_global *g
        = fsrec_flowsteer_global_first(ctx->idl);

    if (!p) {
        return;
    }
    if (g && g->policy == p && !shash_find(&ctx->options, "--force")) {
        ctl_error(ctx, "%s: the policy in force; every chassis would lose "
                  "it (--force to delete it all the same)", p->name);
        return;
    }
    fsrec_policy_delete(p);
}

static void
cmd_policy_list(struct ctl_context *ctx)
{
    const struct fsrec_flowsteer_global *g
        = fsrec_flowsteer_global_first(ctx->idl);
    struct table *t = new_table(ctx, "NAME", "VERSION", "RULES", "IN FORCE",
                                NULL);
    const struct fsrec_policy *p;

    FSREC_POLICY_FOR_EACH (p, ctx->idl) {
        table_add_row(t);
        cell(t, "%s", p->name);
        cell(t, "%"PRId64, p->version);
        cell(t, "%"PRIuSIZE, count_rules(p->rules));
        cell(t, "%s", g && g->policy == p ? "yes" : "no");
    }
}

static void
cmd_policy_get(struct ctl_context *ctx)
{
    const struct fsrec_policy *p = policy_by_name(ctx, ctx->argv[1], true);

    if (p) {
        ds_put_cstr(&ctx->output, p->rules);
        if (p->rules[0] && p->rules[strlen(p->rules) - 1] != '\n') {
            ds_put_char(&ctx->output, '\n');
        }
    }
}

static void
cmd_policy_rule_add(struct ctl_context *ctx)
{
    const struct fsrec_policy *p = policy_by_name(ctx, ctx->argv[1], true);
    const char *rule = ctx->argv[2];

    if (!p) {
        return;
    }
    if (strchr(rule, '\n')) {
        ctl_error(ctx, "a rule is one line");
        return;
    }
    struct ds text = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&text, p->rules);
    if (text.length && text.string[text.length - 1] != '\n') {
        ds_put_char(&text, '\n');
    }
    ds_put_format(&text, "%s\n", rule);
    fsrec_policy_verify_rules(p);
    policy_write(ctx, p, ds_cstr(&text));
    ds_destroy(&text);
}

/* Returns the priority a rule line gives, or -1 if it gives none. */
static long long int
line_priority(const char *line, size_t len)
{
    const char *end = line + len;

    for (const char *s = line; s < end; ) {
        s += strspn(s, " \t");
        if (!strncmp(s, "priority=", 9)) {
            return strtoll(s + 9, NULL, 10);
        }
        const char *comma = memchr(s, ',', end - s);
        s = comma ? comma + 1 : end;
    }
    return -1;
}

static void
cmd_policy_rule_del(struct ctl_context *ctx)
{
    const struct fsrec_policy *p = policy_by_name(ctx, ctx->argv[1], true);
    unsigned int priority;
    struct ds text = DS_EMPTY_INITIALIZER;
    size_t n = 0;

    if (!p) {
        return;
    }
    if (!str_to_uint(ctx->argv[2], 10, &priority)) {
        ctl_error(ctx, "%s: not a priority", ctx->argv[2]);
        return;
    }
    for (const char *line = p->rules; line && *line; ) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t) (end - line) + 1 : strlen(line);

        if (line_priority(line, len) == priority) {
            n++;
        } else {
            ds_put_buffer(&text, line, len);
        }
        line += len;
    }
    if (!n) {
        if (!shash_find(&ctx->options, "--if-exists")) {
            ctl_error(ctx, "%s: no rule of priority %u", p->name, priority);
        }
    } else {
        fsrec_policy_verify_rules(p);
        policy_write(ctx, p, ds_cstr(&text));
    }
    ds_destroy(&text);
}

static void
cmd_policy_use(struct ctl_context *ctx)
{
    const struct fsrec_policy *p = NULL;

    if (ctx->argc > 1 && !(p = policy_by_name(ctx, ctx->argv[1], true))) {
        return;
    }
    fsrec_flowsteer_global_set_policy(global_row(ctx), p);
}

/* Checks that the rules of 'p' can be a profile's, composed as every
 * chassis composes them (fs_fleet_profile_rules()): none may name a
 * profile. */
static bool
check_profile_policy(struct ctl_context *ctx, const char *profile,
                     const struct fsrec_policy *p)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    bool ok;

    fs_fleet_profile_rules(&text, profile, p->rules);
    ok = check_rules(ctx, p->name, ds_cstr(&text));
    ds_destroy(&text);
    if (!ok) {
        char *why = ctx->error;

        ctx->error = NULL;
        ctl_error(ctx, "policy %s cannot be profile %s's (its rules are "
                  "given profile=%s): %s", p->name, profile, profile, why);
        free(why);
    }
    return ok;
}

static void
cmd_profile_add(struct ctl_context *ctx)
{
    const char *name = ctx->argv[1];
    const struct fsrec_policy *p = NULL;

    if (!check_name(ctx, "profile", name)) {
        return;
    }
    if (profile_by_name(ctx, name, false)) {
        if (!shash_find(&ctx->options, "--may-exist")) {
            ctl_error(ctx, "%s: a profile of that name exists", name);
        }
        return;
    }
    if (ctx->argc > 2 && (!(p = policy_by_name(ctx, ctx->argv[2], true))
                          || !check_profile_policy(ctx, name, p))) {
        return;
    }
    struct fsrec_profile *pr = fsrec_profile_insert(ctx->txn);
    fsrec_profile_set_name(pr, name);
    fsrec_profile_set_policy(pr, p);
}

static void
cmd_profile_set_policy(struct ctl_context *ctx)
{
    const struct fsrec_profile *pr = profile_by_name(ctx, ctx->argv[1], true);
    const struct fsrec_policy *p = NULL;

    if (!pr
        || (ctx->argc > 2 && (!(p = policy_by_name(ctx, ctx->argv[2], true))
                              || !check_profile_policy(ctx, pr->name, p)))) {
        return;
    }
    fsrec_profile_set_policy(pr, p);
}

static void
cmd_profile_del(struct ctl_context *ctx)
{
    bool must_exist = !shash_find(&ctx->options, "--if-exists");
    const struct fsrec_profile *pr = profile_by_name(ctx, ctx->argv[1],
                                                     must_exist);
    if (pr) {
        fsrec_profile_delete(pr);
    }
}

static void
cmd_profile_list(struct ctl_context *ctx)
{
    struct table *t = new_table(ctx, "NAME", "POLICY", NULL);
    const struct fsrec_profile *pr;

    FSREC_PROFILE_FOR_EACH (pr, ctx->idl) {
        table_add_row(t);
        cell(t, "%s", pr->name);
        cell(t, "%s", pr->policy ? pr->policy->name : "");
    }
}

static void
cmd_chassis_list(struct ctl_context *ctx)
{
    struct table *t = new_table(ctx, "NAME", "HOSTNAME", "MIGRATION",
                                "POLICY", "VERSION", "HEARTBEAT", NULL);
    const struct fsrec_chassis *ch;
    long long int now = time_wall_msec();

    FSREC_CHASSIS_FOR_EACH (ch, ctx->idl) {
        table_add_row(t);
        cell(t, "%s", ch->name);
        cell(t, "%s", ch->hostname);
        cell(t, "%s", ch->migration_remote);
        cell(t, "%s", ch->policy_name);
        cell(t, "%"PRId64, ch->policy_version);
        if (ch->heartbeat) {
            cell(t, "%llds ago", (now - ch->heartbeat) / 1000);
        } else {
            cell(t, "never");
        }
    }
}

static void
cmd_chassis_del(struct ctl_context *ctx)
{
    const struct fsrec_chassis *ch;

    FSREC_CHASSIS_FOR_EACH (ch, ctx->idl) {
        if (!strcmp(ch->name, ctx->argv[1])) {
            fsrec_chassis_delete(ch);
            return;
        }
    }
    if (!shash_find(&ctx->options, "--if-exists")) {
        ctl_error(ctx, "%s: no chassis of that name", ctx->argv[1]);
    }
}

static void
put_time(struct table *t, int64_t msec)
{
    if (msec) {
        char *s = xastrftime_msec("%Y-%m-%dT%H:%M:%S.###Z", msec, true);
        cell(t, "%s", s);
        free(s);
    } else {
        cell(t, "-");
    }
}

static void
cmd_migration_list(struct ctl_context *ctx)
{
    struct table *t = new_table(ctx, "IFACE-ID", "SOURCE", "DESTINATION",
                                "STATE", "STARTED", "ENDED", "FLOWS",
                                "ERROR", NULL);
    const struct fsrec_migration *m;

    FSREC_MIGRATION_FOR_EACH (m, ctx->idl) {
        table_add_row(t);
        cell(t, "%s", m->iface_id);
        cell(t, "%s", m->source);
        cell(t, "%s", m->destination);
        cell(t, "%s", m->state);
        put_time(t, m->started);
        put_time(t, m->ended);
        cell(t, "%"PRId64, m->flows);
        cell(t, "%s", m->error);
    }
}

static const struct ctl_command_syntax flowsteer_commands[] = {
    {"init", 0, 0, "", pre_all, cmd_init, NULL, "", RW},
    {"show", 0, 0, "", pre_all, cmd_show, NULL, "", RO},
    {"policy-add", 1, 2, "NAME [FILE]", pre_all, cmd_policy_add, NULL,
     "--may-exist", RW},
    {"policy-set", 2, 2, "NAME FILE", pre_all, cmd_policy_set, NULL, "", RW},
    {"policy-del", 1, 1, "NAME", pre_all, cmd_policy_del, NULL,
     "--if-exists,--force", RW},
    {"policy-list", 0, 0, "", pre_all, cmd_policy_list, NULL, "", RO},
    {"policy-get", 1, 1, "NAME", pre_all, cmd_policy_get, NULL, "", RO},
    {"policy-rule-add", 2, 2, "NAME RULE", pre_all, cmd_policy_rule_add,
     NULL, "", RW},
    {"policy-rule-del", 2, 2, "NAME PRIORITY", pre_all, cmd_policy_rule_del,
     NULL, "--if-exists", RW},
    {"policy-use", 0, 1, "[NAME]", pre_all, cmd_policy_use, NULL, "", RW},
    {"profile-add", 1, 2, "NAME [POLICY]", pre_all, cmd_profile_add, NULL,
     "--may-exist", RW},
    {"profile-set-policy", 1, 2, "NAME [POLICY]", pre_all,
     cmd_profile_set_policy, NULL, "", RW},
    {"profile-del", 1, 1, "NAME", pre_all, cmd_profile_del, NULL,
     "--if-exists", RW},
    {"profile-list", 0, 0, "", pre_all, cmd_profile_list, NULL, "", RO},
    {"chassis-list", 0, 0, "", pre_all, cmd_chassis_list, NULL, "", RO},
    {"chassis-del", 1, 1, "NAME", pre_all, cmd_chassis_del, NULL,
     "--if-exists", RW},
    {"migration-list", 0, 0, "", pre_all, cmd_migration_list, NULL, "", RO},
    {NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, RO},
};

/* How db-ctl-base's commands name a row: by its name, or a Connection by
 * its target. */
static const struct ctl_table_class tables[FSREC_N_TABLES] = {
    [FSREC_TABLE_CHASSIS].row_ids[0] = {&fsrec_chassis_col_name, NULL, NULL},
    [FSREC_TABLE_CONNECTION].row_ids[0]
        = {&fsrec_connection_col_target, NULL, NULL},
    [FSREC_TABLE_POLICY].row_ids[0] = {&fsrec_policy_col_name, NULL, NULL},
    [FSREC_TABLE_PROFILE].row_ids[0] = {&fsrec_profile_col_name, NULL, NULL},
    [FSREC_TABLE_RBAC_ROLE].row_ids[0]
        = {&fsrec_rbac_role_col_name, NULL, NULL},
    [FSREC_TABLE_MIGRATION].row_ids[0]
        = {&fsrec_migration_col_iface_id, NULL, NULL},
};

/* ---------------------------------------------------------------------- */
/* The run. */

static void
flowsteer_ctl_exit(int status)
{
    if (the_idl_txn) {
        ovsdb_idl_txn_abort(the_idl_txn);
        ovsdb_idl_txn_destroy(the_idl_txn);
    }
    ovsdb_idl_destroy(the_idl);
    exit(status);
}

static void
usage(void)
{
    printf("\
%s: the Flowsteer database's command line\n\
usage: %s [OPTIONS] COMMAND [ARG...]\n\
\n\
General commands:\n\
  init                        create the global row if there is none\n\
  show                        the policies, profiles, chassis, migrations\n\
\n\
Policy commands (a policy's rules are in a policy file's syntax;\n\
each change of them adds one to the policy's version):\n\
  [--may-exist] policy-add NAME [FILE]  a new policy, with FILE's rules\n\
  policy-set NAME FILE        replace NAME's rules with FILE's (- stdin)\n\
  policy-rule-add NAME RULE   add one rule line to NAME\n\
  [--if-exists] policy-rule-del NAME PRIORITY  remove the rules of PRIORITY\n\
  [--if-exists] [--force] policy-del NAME  delete NAME\n\
  policy-list                 the policies, their versions, the one in force\n\
  policy-get NAME             print NAME's rules\n\
  policy-use [NAME]           every chassis follows NAME (none: no policy)\n\
\n\
Profile commands:\n\
  [--may-exist] profile-add NAME [POLICY]  a new profile\n\
  profile-set-policy NAME [POLICY]  the policy of NAME's VMs\n\
  [--if-exists] profile-del NAME  delete NAME\n\
  profile-list                the profiles and their policies\n\
\n\
Chassis and migration commands:\n\
  chassis-list                each flowsteerd host, what it has in force\n\
  [--if-exists] chassis-del NAME  forget a chassis (gone for good)\n\
  migration-list              VM migrations, in flight and past\n\
\n\
%s\
%s\
\n\
Options:\n\
  --db=DATABASE               connect to DATABASE\n\
                              (default: $FLOWSTEER_DB, else %s)\n\
  -t, --timeout=SECS          give up after SECS seconds\n\
  --json                      the same as --format=json\n\
  --oneline                   print each command's output on one line\n\
  --dry-run                   do not commit changes to the database\n\
  --no-leader-only            any cluster member may answer\n\
",
           program_name, program_name, ctl_get_db_cmd_usage(),
           ctl_list_db_tables_usage(), DEFAULT_DB);
    table_usage();
    stream_usage("database", true, true, true);
    printf("\
\n\
Other options:\n\
  -h, --help                  display this help message\n\
  -V, --version               display version information\n");
    vlog_usage();
    exit(EXIT_SUCCESS);
}

static void
parse_options(int argc, char *argv[], struct shash *local_options)
{
    enum {
        OPT_DB = UCHAR_MAX + 1,
        OPT_ONELINE,
        OPT_DRY_RUN,
        OPT_JSON,
        OPT_NO_LEADER_ONLY,
        OPT_PEER_CA_CERT,
        OPT_LOCAL,
        VLOG_OPTION_ENUMS,
        TABLE_OPTION_ENUMS,
        SSL_OPTION_ENUMS,
    };
    static const struct option global_long_options[] = {
        {"db", required_argument, NULL, OPT_DB},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"oneline", no_argument, NULL, OPT_ONELINE},
        {"json", no_argument, NULL, OPT_JSON},
        {"no-leader-only", no_argument, NULL, OPT_NO_LEADER_ONLY},
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        VLOG_LONG_OPTIONS,
        TABLE_LONG_OPTIONS,
        STREAM_SSL_LONG_OPTIONS,
        {"peer-ca-cert", required_argument, NULL, OPT_PEER_CA_CERT},
        {NULL, 0, NULL, 0},
    };
    const int n_global = ARRAY_SIZE(global_long_options) - 1;
    char *tmp = ovs_cmdl_long_options_to_short_options(global_long_options);
    char *short_options = xasprintf("+%s", tmp);
    struct option *options;
    size_t allocated, n;

    free(tmp);
    /* The commands' own options (--may-exist, ...) come before the
     * command, as with ovs-vsctl. */
    options = xmemdup(global_long_options, sizeof global_long_options);
    allocated = ARRAY_SIZE(global_long_options);
    n = n_global;
    ctl_add_cmd_options(&options, &n, &allocated, OPT_LOCAL);

    for (;;) {
        int idx;
        int c = getopt_long(argc, argv, short_options, options, &idx);

        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB:
            db = optarg;
            break;
        case OPT_ONELINE:
            oneline = true;
            break;
        case OPT_DRY_RUN:
            dry_run = true;
            break;
        case OPT_JSON:
            table_style.format = TF_JSON;
            format_given = true;
            break;
        case 'f':
        case OPT_BARE:
            format_given = true;
            if (c == 'f') {
                table_parse_format(&table_style, optarg);
            } else {
                table_style.format = TF_LIST;
                table_style.cell_format = CF_BARE;
                table_style.headings = false;
            }
            break;
        case 'd':
            table_parse_cell_format(&table_style, optarg);
            break;
        case OPT_NO_HEADINGS:
            table_style.headings = false;
            break;
        case OPT_PRETTY:
            table_style.json_flags |= JSSF_PRETTY;
            break;
        case OPT_MAX_COLUMN_WIDTH:
            table_style.max_column_width = atoi(optarg);
            break;
        case OPT_NO_LEADER_ONLY:
            leader_only = false;
            break;
        case OPT_LOCAL:
            if (shash_find(local_options, options[idx].name)) {
                ctl_fatal("'%s' option specified multiple times",
                          options[idx].name);
            }
            shash_add_nocopy(local_options,
                             xasprintf("--%s", options[idx].name),
                             nullable_xstrdup(optarg));
            break;
        case 'h':
            usage();
        case 'V':
            ovs_print_version(0, 0);
            printf("DB Schema %s\n", fsrec_get_db_version());
            exit(EXIT_SUCCESS);
        case 't':
            if (!str_to_uint(optarg, 10, &timeout) || !timeout) {
                ctl_fatal("value %s on -t or --timeout is invalid", optarg);
            }
            break;
        VLOG_OPTION_HANDLERS
        STREAM_SSL_OPTION_HANDLERS
        case OPT_PEER_CA_CERT:
            stream_ssl_set_peer_ca_cert_file(optarg);
            break;
        case '?':
            exit(EXIT_FAILURE);
        default:
            abort();
        }
    }
    free(short_options);

    if (!db) {
        db = getenv("FLOWSTEER_DB");
        if (!db || !*db) {
            db = DEFAULT_DB;
        }
    }
    for (size_t i = n_global; options[i].name; i++) {
        free(CONST_CAST(char *, options[i].name));
    }
    free(options);
}

static void
print_output(struct ctl_command *c)
{
    struct ds *ds = &c->output;

    if (c->table) {
        /* This program's own lists are tables unless told otherwise; the
         * generic "list" and "find" keep db-ctl-base's list format. */
        const struct ctl_command_syntax *end
            = &flowsteer_commands[ARRAY_SIZE(flowsteer_commands)];
        struct table_style style = table_style;

        if (!format_given
            && c->syntax >= flowsteer_commands && c->syntax < end) {
            style.format = TF_TABLE;
        }
        table_print(c->table, &style);
    } else if (oneline) {
        ds_chomp(ds, '\n');
        for (size_t i = 0; i < ds->length; i++) {
            if (ds->string[i] == '\n') {
                fputs("\\n", stdout);
            } else if (ds->string[i] == '\\') {
                fputs("\\\\", stdout);
            } else {
                putchar(ds->string[i]);
            }
        }
        putchar('\n');
    } else {
        fputs(ds_cstr(ds), stdout);
    }
}

static void
clear_outputs(struct ctl_command *commands, size_t n)
{
    for (struct ctl_command *c = commands; c < &commands[n]; c++) {
        ds_destroy(&c->output);
        table_destroy(c->table);
        free(c->table);
        c->table = NULL;
    }
}

/* Runs the commands in one transaction.  Returns true when done (exiting
 * on an error), false when they must run again on a newer copy of the
 * database. */
static bool
do_flowsteer_ctl(const char *args, struct ctl_command *commands,
                 size_t n_commands, struct ovsdb_idl *idl)
{
    struct ovsdb_symbol_table *symtab = ovsdb_symbol_table_create();
    struct ctl_context ctx;
    enum ovsdb_idl_txn_status status;
    struct ctl_command *c;
    char *error;

    the_idl_txn = ovsdb_idl_txn_create(idl);
    if (dry_run) {
        ovsdb_idl_txn_set_dry_run(the_idl_txn);
    }
    ovsdb_idl_txn_add_comment(the_idl_txn, "flowsteer-ctl: %s", args);

    for (c = commands; c < &commands[n_commands]; c++) {
        ds_init(&c->output);
        c->table = NULL;
    }
    ctl_context_init(&ctx, NULL, idl, the_idl_txn, symtab, NULL);
    for (c = commands; c < &commands[n_commands]; c++) {
        ctl_context_init_command(&ctx, c, c == &commands[n_commands - 1]);
        if (c->syntax->run) {
            c->syntax->run(&ctx);
        }
        if (ctx.error) {
            ctl_fatal("%s", ctx.error);
        }
        ctl_context_done_command(&ctx, c);
        if (ctx.try_again) {
            ctl_context_done(&ctx, NULL);
            goto try_again;
        }
    }
    ctl_context_done(&ctx, NULL);

    struct shash_node *node;
    SHASH_FOR_EACH (node, &symtab->sh) {
        struct ovsdb_symbol *symbol = node->data;
        if (!symbol->created) {
            ctl_fatal("row id \"%s\" is referenced but never created "
                      "(e.g. with \"-- --id=%s create ...\")",
                      node->name, node->name);
        }
    }

    status = ovsdb_idl_txn_commit_block(the_idl_txn);
    if (status == TXN_UNCHANGED || status == TXN_SUCCESS) {
        for (c = commands; c < &commands[n_commands]; c++) {
            if (c->syntax->postprocess) {
                ctl_context_init(&ctx, c, idl, the_idl_txn, symtab, NULL);
                c->syntax->postprocess(&ctx);
                if (ctx.error) {
                    ctl_fatal("%s", ctx.error);
                }
                ctl_context_done(&ctx, c);
            }
        }
    }
    error = xstrdup(ovsdb_idl_txn_get_error(the_idl_txn));

    switch (status) {
    case TXN_UNCHANGED:
    case TXN_SUCCESS:
        break;
    case TXN_TRY_AGAIN:
        free(error);
        goto try_again;
    case TXN_ERROR:
        ctl_fatal("transaction error: %s", error);
    case TXN_NOT_LOCKED:
    case TXN_ABORTED:
    case TXN_UNCOMMITTED:
    case TXN_INCOMPLETE:
    default:
        ctl_fatal("transaction failed: %s", error);
    }
    free(error);
    ovsdb_idl_txn_destroy(the_idl_txn);
    the_idl_txn = NULL;
    ovsdb_symbol_table_destroy(symtab);

    for (c = commands; c < &commands[n_commands]; c++) {
        print_output(c);
        shash_destroy_free_data(&c->options);
    }
    clear_outputs(commands, n_commands);
    return true;

try_again:
    ovsdb_idl_txn_abort(the_idl_txn);
    ovsdb_idl_txn_destroy(the_idl_txn);
    the_idl_txn = NULL;
    ovsdb_symbol_table_destroy(symtab);
    clear_outputs(commands, n_commands);
    return false;
}

int
main(int argc, char *argv[])
{
    struct ctl_command *commands;
    struct shash local_options;
    size_t n_commands;
    unsigned int seqno;

    set_program_name(argv[0]);
    fatal_ignore_sigpipe();
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    vlog_set_levels_from_string_assert("reconnect:warn");

    ctl_init__(&fsrec_idl_class, tables, NULL, flowsteer_ctl_exit);
    ctl_register_commands(flowsteer_commands);

    char *args = process_escape_args(argv);
    shash_init(&local_options);
    parse_options(argc, argv, &local_options);
    char *error = ctl_parse_commands(argc - optind, argv + optind,
                                     &local_options, &commands, &n_commands);
    if (error) {
        ctl_fatal("%s", error);
    }
    VLOG(ctl_might_write_to_db(commands, n_commands) ? VLL_INFO : VLL_DBG,
         "Called as %s", args);

    ctl_timeout_setup(timeout);

    the_idl = ovsdb_idl_create(db, &fsrec_idl_class, false, true);
    ovsdb_idl_set_leader_only(the_idl, leader_only);
    for (struct ctl_command *c = commands; c < &commands[n_commands]; c++) {
        struct ctl_context ctx;

        ctl_context_init(&ctx, c, the_idl, NULL, NULL, NULL);
        if (c->syntax->prerequisites) {
            c->syntax->prerequisites(&ctx);
        }
        if (ctx.error) {
            ctl_fatal("%s", ctx.error);
        }
        ctl_context_done(&ctx, c);
    }

    seqno = ovsdb_idl_get_seqno(the_idl);
    for (;;) {
        ovsdb_idl_run(the_idl);
        if (!ovsdb_idl_is_alive(the_idl)) {
            int retval = ovsdb_idl_get_last_error(the_idl);
            ctl_fatal("%s: database connection failed (%s)",
                      db, ovs_retval_to_string(retval));
        }
        if (seqno != ovsdb_idl_get_seqno(the_idl)) {
            seqno = ovsdb_idl_get_seqno(the_idl);
            if (do_flowsteer_ctl(args, commands, n_commands, the_idl)) {
                free(args);
                free(commands);
                ovsdb_idl_destroy(the_idl);
                exit(EXIT_SUCCESS);
            }
        }
        if (seqno == ovsdb_idl_get_seqno(the_idl)) {
            ovsdb_idl_wait(the_idl);
            poll_block();
        }
    }
}
