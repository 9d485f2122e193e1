/* version.h - ckernel's version, said in one place: `ckernel --version`,
 * kernel_info_reply's implementation_version and nb_version() read it. */
#ifndef CK_VERSION_H
#define CK_VERSION_H

#define CK_VERSION "0.1.0"

#endif
