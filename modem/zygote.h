/*
 * zygote.c: the modem workers' fork server (tallygw-modem -Z).
 */
#ifndef ZYGOTE_H
#define ZYGOTE_H

void	zygote_main(int, char *[], int *, char ***);

#endif /* ZYGOTE_H */
