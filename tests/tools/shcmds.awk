# shcmds.awk: the programs shell scripts run, for tests/regress/deps.sh.
#
#   awk -f tests/tools/shcmds.awk SCRIPT...
#
# prints "cmd NAME FILE:LINE" for each word at a command position and
# "func NAME" for each function a script defines. A command position is
# the first word of a line, or after | || && ; & ( $( ` { then do else
# elif if while until !, after assignments and redirections, and after
# the words that run a command of their own (exec, env VAR=x, timeout N,
# nice, xargs, setsid, wait_for N, check DESC, ...). The bodies of
# `sh -c' strings are read the same way, here-documents skipped, case
# patterns and words holding $ (our programs, as "$SIM") left out.
# Pragmatic, not a shell: it is meant to find what a test forgot in
# `make deps', not to parse every script there is.

function flush() {
	if (text != "")
		lex(text, fname, 1)
	text = ""
}

FNR == 1 {
	flush()
	fname = FILENAME
}

{ text = text $0 "\n" }

END {
	flush()
	for (qi = 1; qi <= nq; qi++)
		lex(qbody[qi], qfile[qi], qline[qi])
}

# How many words a command-running word skips before the command: the
# test helpers whose arguments end in a command.
BEGIN {
	nskip["wait_for"] = 1; nskip["wait_until"] = 1; nskip["wait_up"] = 2
	nskip["expect_rc"] = 2; nskip["check"] = 1; nskip["run_suite"] = 1
	nskip["exec"] = 0; nskip["command"] = 0; nskip["nohup"] = 0
	nskip["setsid"] = 0; nskip["t_bg"] = 0; nskip["env"] = 0
	nskip["timeout"] = 0; nskip["nice"] = 0; nskip["xargs"] = 0
	nskip["time"] = 0
	split("if then else elif while until do ! {", kw, " ")
	for (k in kw)
		opens[kw[k]] = 1
	split("fi done esac } for in", kw, " ")
	for (k in kw)
		closes[kw[k]] = 1
}

# begin(D, I): a word of normal level D starts at I (if none has yet).
function begin(d, i) {
	if (!hasw[d]) {
		hasw[d] = 1
		wstart[d] = i
		wline[d] = ln
	}
}

# resetcmd(D): a new command starts at level D.
function resetcmd(d) {
	cmdpos[d] = 1
	wrap[d] = ""
	skip[d] = 0
	shc[d] = 0
	redir[d] = 0
}

# unquote(W): W without its quotes, as the shell would read it.
function unquote(w,   q) {
	q = substr(w, 1, 1)
	if ((q == "\"" || q == "'") && substr(w, length(w), 1) == q) {
		w = substr(w, 2, length(w) - 2)
		if (q == "\"") {
			gsub(/\\\$/, "$", w)
			gsub(/\\"/, "\"", w)
			gsub(/\\`/, "`", w)
			gsub(/\\\\/, "\\", w)
		}
	}
	return w
}

# word(D, W, F): the word W of level D is complete: classify it.
function word(d, w, f) {
	if (redir[d]) {
		redir[d] = 0
		return
	}
	if (shc[d] == 2) {
		shc[d] = 0
		qbody[++nq] = unquote(w)
		qfile[nq] = f
		qline[nq] = wline[d]
		return
	}
	if (shc[d] == 1) {
		if (w == "-c")
			shc[d] = 2
		else if (w !~ /^-/)
			shc[d] = 0
		return
	}
	if (cse[d] == 1) {
		if (w == "in")
			cse[d] = 2
		return
	}
	if (cse[d] == 2 && w != "esac")
		return
	if (!cmdpos[d])
		return
	if (skip[d] > 0) {
		skip[d]--
		return
	}
	if (wrap[d] != "" && wrapped(d, w))
		return
	if (w ~ /^[A-Za-z_][A-Za-z0-9_]*=/)
		return
	if (w in opens)
		return
	if (w in closes || w == "case") {
		cmdpos[d] = 0
		if (w == "case")
			cse[d] = 1
		if (w == "esac")
			cse[d] = 0
		return
	}
	w = unquote(w)
	if (w ~ /^[A-Za-z0-9_.+[-]+$/ || w ~ /^\/[A-Za-z0-9_.+\/-]+$/)
		print "cmd " w " " f ":" wline[d]
	cmdpos[d] = 0
	if (w in nskip) {
		cmdpos[d] = 1
		wrap[d] = w
		skip[d] = nskip[w]
		wst[d] = 0
		tdone[d] = 0
	}
	if (w == "sh" || w == "bash" || w == "dash")
		shc[d] = 1
}

# wrapped(D, W): 1 if W is still an argument of the wrapper (env's
# VAR=x, timeout's options and duration, ...), 0 if W is the command.
function wrapped(d, w,   x) {
	x = wrap[d]
	if (wst[d] == 1) {	# an option's argument
		wst[d] = 0
		tdone[d] = 0
		return 1
	}
	if (x == "command" && (w == "-v" || w == "-V"))
		return 1
	if (x == "env" && (w ~ /^-/ || w ~ /=/))
		return 1
	if (x == "timeout" && w ~ /^-/) {
		if (w == "-s" || w == "-k")
			wst[d] = 1
		return 1
	}
	if (x == "timeout" && wst[d] == 0 && !tdone[d]) {
		tdone[d] = 1	# the duration
		return 1
	}
	if (x == "nice" && w ~ /^-/) {
		if (w == "-n")
			wst[d] = 1
		return 1
	}
	if (x == "xargs" && w ~ /^-/) {
		if (w ~ /^-[nIPLdsEa]$/)
			wst[d] = 1
		return 1
	}
	if (w ~ /^-/ && x != "wait_for" && x != "check")
		return 1
	wrap[d] = ""
	tdone[d] = 0
	return 0
}

# lex(S, F, L): read the shell text S (of file F, from line L).
function lex(s, f, l,   n, i, c, nx, k, o, w, dl, strip, line, j) {
	ln = l
	n = length(s)
	top = 0
	kind[0] = "N"
	own[0] = 0
	hasw[0] = 0
	pc[0] = 0
	cse[0] = 0
	resetcmd(0)
	hd = ""
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		nx = substr(s, i + 1, 1)
		k = kind[top]
		o = own[top]
		if (k == "S") {
			if (c == "'")
				top--
			else if (c == "\n")
				ln++
			continue
		}
		if (k == "A") {
			if (c == "(")
				pc[top]++
			else if (c == ")" && --pc[top] == 0)
				top--
			continue
		}
		if (k == "D") {
			if (c == "\"") {
				top--
			} else if (c == "\\") {
				i++
			} else if (c == "\n") {
				ln++
			} else if (c == "$" && nx == "(") {
				i = push(s, i, o)
			} else if (c == "`") {
				level("B")
			}
			continue
		}
		# a normal level: the text of $( ), ` ` or the script itself
		if (c == "\\") {
			if (nx == "\n") {
				ln++
			} else {
				begin(top, i)
			}
			i++
			continue
		}
		if (c == " " || c == "\t" || c == "\n") {
			endw(s, i, top, f)
			if (c == "\n") {
				ln++
				if (cse[top] != 2)
					resetcmd(top)
				if (hd != "") {
					# skip the here-document's lines
					while (i < n) {
						j = index(substr(s, i + 1), "\n")
						if (j == 0)
							j = n - i + 1
						line = substr(s, i + 1, j - 1)
						i += j
						ln++
						if (strip)
							sub(/^\t+/, "", line)
						if (line == hd)
							break
					}
					hd = ""
				}
			}
			continue
		}
		if (c == "#" && !hasw[top]) {
			while (i < n && substr(s, i + 1, 1) != "\n")
				i++
			continue
		}
		if (c == "'" || c == "\"") {
			begin(top, i)
			top++
			kind[top] = (c == "'") ? "S" : "D"
			own[top] = own[top - 1]
			continue
		}
		if (c == "`") {
			if (k == "B") {
				top--
				continue
			}
			begin(top, i)
			level("B")
			continue
		}
		if (c == "$" && nx == "(") {
			begin(top, i)
			i = push(s, i, top)
			continue
		}
		if (c == "(") {
			w = hasw[top] ? substr(s, wstart[top], i - wstart[top]) : ""
			if (w ~ /^[A-Za-z_][A-Za-z0-9_-]*$/ && nx == ")") {
				print "func " w
				hasw[top] = 0
				i++
				continue
			}
			endw(s, i, top, f)
			if (cse[top] != 2) {
				pc[top]++
				resetcmd(top)
			}
			continue
		}
		if (c == ")") {
			endw(s, i, top, f)
			if (cse[top] == 2 && pc[top] == 0) {
				cse[top] = 3
				resetcmd(top)
			} else if (pc[top] > 0) {
				pc[top]--
				cmdpos[top] = 0
			} else if (top > 0) {
				top--
			}
			continue
		}
		if (c == ";" || c == "|" || c == "&") {
			endw(s, i, top, f)
			if (nx == c) {
				i++
				if (c == ";" && cse[top] == 3)
					cse[top] = 2
			}
			if (cse[top] != 2)
				resetcmd(top)
			continue
		}
		if (c == "<" || c == ">") {
			w = hasw[top] ? substr(s, wstart[top], i - wstart[top]) : ""
			if (w ~ /^[0-9]+$/)
				hasw[top] = 0	# the descriptor of 2>x
			else
				endw(s, i, top, f)
			if (c == "<" && nx == "<") {
				# a here-document: remember its delimiter
				i++
				strip = (substr(s, i + 1, 1) == "-")
				if (strip)
					i++
				while (substr(s, i + 1, 1) ~ /[ \t]/)
					i++
				dl = ""
				while (i < n && substr(s, i + 1, 1) !~ /[ \t\n;|&<>)]/) {
					dl = dl substr(s, i + 1, 1)
					i++
				}
				gsub(/["'\\]/, "", dl)
				hd = dl
				continue
			}
			if (nx == ">" || nx == "&" || nx == "|" || (c == "<" && nx == ">"))
				i++
			if (substr(s, i, 1) == "&" &&
			    substr(s, i + 1, 1) ~ /[0-9-]/) {
				while (substr(s, i + 1, 1) ~ /[0-9-]/)
					i++
				continue
			}
			redir[top] = 1
			continue
		}
		begin(top, i)
	}
	endw(s, n + 1, top, f)
}

# push(S, I, OWNER): a $( at I: a new normal level, or $(( arithmetic.
function push(s, i, o) {
	top++
	if (substr(s, i + 2, 1) == "(") {
		kind[top] = "A"
		own[top] = o
		pc[top] = 2
		return i + 2
	}
	top--
	level("N")
	return i + 1
}

# level(K): a new normal level of kind K ($( ) "N", ` ` "B") on top.
function level(k) {
	top++
	kind[top] = k
	own[top] = top
	hasw[top] = 0
	pc[top] = 0
	cse[top] = 0
	resetcmd(top)
}

# endw(S, I, D, F): the word of level D, if any, ends before I.
function endw(s, i, d, f) {
	if (!hasw[d])
		return
	hasw[d] = 0
	word(d, substr(s, wstart[d], i - wstart[d]), f)
}
