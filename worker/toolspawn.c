/* toolspawn.c - start a tool from the worker as from a shell (toolspawn.h). */
#include <signal.h>
#include "toolspawn.h"

int spawn_tool(pid_t *pid, posix_spawn_file_actions_t *fa, int search_path, int own_group,
               char *const argv[], char *const envp[]) {
    posix_spawn_file_actions_addclosefrom_np(fa, 3);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_group) {
        posix_spawnattr_setpgroup(&at, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&at, flags);
    int rc = search_path ? posix_spawnp(pid, argv[0], fa, &at, argv, envp)
                         : posix_spawn(pid, argv[0], fa, &at, argv, envp);
    posix_spawnattr_destroy(&at);
    return rc;
}
