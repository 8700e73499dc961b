/* stdio: stdin, stdout and stderr pass through. Reads stdin to EOF in small read(2) calls, then
   writes it back upper-cased with one writev(2) of three pieces, and a byte count on stderr. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int main(void) {
  static char buf[1 << 16];
  size_t n = 0;
  ssize_t r;
  while (n < sizeof buf && (r = read(0, buf + n, 7)) > 0) n += (size_t)r;
  if (r < 0) { perror("read"); return 1; }
  for (size_t i = 0; i < n; i++) buf[i] = (char)toupper((unsigned char)buf[i]);
  char head[] = "<<", tail[] = ">>\n";
  struct iovec iov[3] = {{head, 2}, {buf, n}, {tail, 3}};
  ssize_t w = writev(1, iov, 3);
  char msg[64];
  int m = snprintf(msg, sizeof msg, "read %zu bytes, writev wrote %zd\n", n, w);
  write(2, msg, (size_t)m);
  return 0;
}
