/*
 * libFuzzer target for flowsteer-rules' input: the commands it reads on
 * standard input ("set ID PROTO SRC DST ACTIONS [options]", "del", ...),
 * which a controller or a script writes.  Any line must be refused with a
 * message or applied to the desired table, without a crash or a leak.
 *
 * Each input is the tool's standard input, run through its own execute()
 * against a new flowrules instance whose switch never answers ('sync' and
 * 'wait-gone' give up at once; 'sleep' lines are skipped, not to stall).
 * It includes flowsteer-rules.c, its main() renamed.
 */
#include <config.h>

#include <stdio.h>

/* The tool's messages about each bad line would be most of what the
 * fuzzer does (gigabytes of log an hour): they go nowhere.  (Sanitizer
 * reports are written to file descriptor 2, not through 'stderr'.) */
static FILE *fuzz_sink;
#undef stderr
#define stderr fuzz_sink

int flowsteer_rules_main(int argc, char *argv[]);

#define main flowsteer_rules_main
#include "flowrules/flowsteer-rules.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc OVS_UNUSED, char ***argv OVS_UNUSED)
{
    set_program_name("fuzz-rules");
    fuzz_sink = fopen("/dev/null", "w");
    if (!fuzz_sink) {
        __builtin_trap();
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flowrules_options o;
    struct tool t = { .sync_timeout_ms = 0 };
    char *text = xmemdup0((const char *) data, size);
    char *line, *save = NULL;
    int lineno = 0;

    flowrules_options_init(&o);
    o.target = "unix:/nonexistent/fuzz.mgmt";
    o.error_cb = on_error;
    o.removed_cb = on_removed;
    o.adopted_cb = on_adopted;
    o.aux = &t;
    if (flowrules_create(&o, &t.fr)) {
        __builtin_trap();
    }
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (!strncmp(line + strspn(line, " \t"), "sleep", 5)) {
            continue;
        }
        execute(&t, line, ++lineno);
    }
    flowrules_destroy(t.fr);
    free(text);
    return 0;
}
