/*
 * libFuzzer target: the form body of a USSD aggregator's callback, as
 * ussd.c reads it from the network (callback_parse), then the menu fed
 * with its text as the inputs of a session.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct election	*el;
	struct callback		 cb;
	struct menu		 m;
	struct menu_env		 env;
	char			 err[128], screen[1024], text[4096];
	char			*p, *in;

	if (el == NULL && (el = election_default()) == NULL)
		return (0);
	if (callback_parse((const char *)data, size, &cb, err,
	    sizeof(err)) == -1)
		return (0);
	memset(&env, 0, sizeof(env));
	env.election = el;
	env.resume = cb.network[0] != '\0' ? cb.network : NULL;
	menu_init(&m);
	p = cb.text;
	while ((in = strsep(&p, "*")) != NULL)
		if (menu_input(&m, &env, in, screen, sizeof(screen)) ==
		    MENU_SUBMIT)
			(void)menu_report(&m, text, sizeof(text));
	return (0);
}
