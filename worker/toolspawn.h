/* toolspawn.h - start a tool (gcc, clang, the escape analyser) from the worker.
 *
 * The worker blocks and handles signals of its own and holds the pipes to
 * the kernel; a tool must start as from a shell: empty signal mask, every
 * signal at its default, and none of the worker's descriptors above 2
 * (a tool that outlived the worker would otherwise keep its pipes open). */
#ifndef CK_TOOLSPAWN_H
#define CK_TOOLSPAWN_H

#include <spawn.h>
#include <sys/types.h>

/* posix_spawn (or posix_spawnp when SEARCH_PATH) of ARGV with ENVP, after
 * FA's actions and then the closing of descriptors 3 and up; in a process
 * group of its own when OWN_GROUP. 0 and *PID, or an errno value. */
int spawn_tool(pid_t *pid, posix_spawn_file_actions_t *fa, int search_path, int own_group,
               char *const argv[], char *const envp[]);

#endif
