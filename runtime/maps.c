/* maps.c - the process's mappings, read from /proc/self/maps (rt_maps_read).
 *
 * Its own file so that the stack (stack.c: the bounds of the main thread's
 * stack) and the address classifier (where.c), which uses the stack's
 * bounds, both read it without depending on each other. Allocates through
 * rt_inside so the counted heap does not see it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rt.h"

int rt_maps_read(rt_map **out) {
    *out = NULL;
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    rt_buf text = {0};
    char chunk[4096];
    ssize_t r;
    while ((r = read(fd, chunk, sizeof chunk)) > 0) rt_buf_add(&text, chunk, (size_t)r);
    close(fd);
    if (!text.s) return -1;
    size_t lines = 0;
    for (size_t i = 0; i < text.len; i++) lines += text.s[i] == '\n';
    rt_inside_begin();
    rt_map *maps = calloc(lines + 1, sizeof *maps);
    rt_inside_end();
    int n = 0;
    for (char *line = text.s; maps && line && *line;) {
        char *next = strchr(line, '\n');
        if (next) *next++ = 0;
        unsigned long lo, hi;
        char perms[8] = "", path[512] = "";
        int got = sscanf(line, "%lx-%lx %7s %*s %*s %*s %511[^\n]", &lo, &hi, perms, path);
        if (got >= 3) {
            rt_map *m = &maps[n++];
            m->lo = lo;
            m->hi = hi;
            memcpy(m->perms, perms, 4);
            m->perms[4] = 0;
            char *p = path;
            while (*p == ' ') p++;
            snprintf(m->path, sizeof m->path, "%s", p);
        }
        line = next;
    }
    rt_buf_free(&text);
    *out = maps;
    return maps ? n : -1;
}
