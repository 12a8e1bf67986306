/* civcasd signing-key and civcasd verify: the mission's signing keys, and
 * checking publications, online against the database or offline against
 * downloaded files. */
#ifndef CIVCAS_TOOLS_SIGNING_H
#define CIVCAS_TOOLS_SIGNING_H

/* Each returns the process exit code (main.c's EXIT_*). */
int signing_key_command(int argc, char **argv);
int verify_command(int argc, char **argv);

#endif
