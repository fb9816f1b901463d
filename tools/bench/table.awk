# Turn one bench.tsv into a table for people, and optionally the data of
# the chart. Plain POSIX awk (Debian's mawk runs it).
#
#   awk -f table.awk [-v chart=FILE] [-v rev=COMMIT] bench.tsv
#
# One row per (figure, size), in the order the program measured them; one
# column per provider with the median and, after "±", the larger distance
# from the median to p10 or p90 in percent; then swgpu/peer ratios of the
# medians (and swgpu-huge/peer, where swgpu-huge was measured). "better"
# says which way is good for the unit. The anonymous
# memory baselines of the stream figures go below the table.
#
# chart=FILE: per row that has swgpu and a peer, log10 of swgpu's
# advantage over each peer (peer/swgpu where lower is better, swgpu/peer
# where higher is), "-" where there is none; the first line names the
# columns. Memory rows other than create-touch1-mem are left out.
BEGIN {
	FS = "\t"
	nrows = 0
	split("swgpu swgpu-huge vgem udmabuf heap", order, " ")
	nord = 5
}

/^# / {
	key = substr($1, 3)
	meta[key] = $2
	if (key == "provider")
		provinfo[$2] = $3
	next
}

NF >= 10 {
	test = $1; prov = $2; size = $3; unit = $4
	if (prov == "anon") {
		anon = anon sprintf("  %s: %s %s (%s buffers, p10..p90 %s..%s, n=%s)\n",
				    test, num($5), unit, hsize(size), num($6), num($7), $10)
		next
	}
	# The raw meminfo deltas stay in bench.tsv; -mem is the one to read.
	if (test ~ /-(avail|shmem)$/)
		next
	row = test SUBSEP size
	if (!(row in seen)) {
		seen[row] = 1
		rows[++nrows] = row
		rtest[row] = test
		rsize[row] = size
	}
	if (unit == "skip" || unit == "error") {
		cell[row, prov] = unit
		if (unit == "skip")
			skips = skips sprintf("  %s %s %s: %s\n", test, prov, hsize(size), $5)
		if (unit == "error")
			errors = errors sprintf("  %s %s %s: %s\n", test, prov, hsize(size), $5)
	} else {
		runit[row] = unit
		med[row, prov] = $5 + 0
		spread = 0
		if ($5 + 0 != 0) {
			lo = ($5 - $6) / $5 * 100; if (lo < 0) lo = -lo
			hi = ($7 - $5) / $5 * 100; if (hi < 0) hi = -hi
			spread = lo > hi ? lo : hi
		}
		cell[row, prov] = sprintf("%s±%d%%", num($5), spread + 0.5)
	}
	has[prov] = 1
}

function num(v) {
	v += 0
	if (v >= 1000 || v <= -1000) return sprintf("%.0f", v)
	if (v >= 100 || v <= -100) return sprintf("%.1f", v)
	if (v >= 10 || v <= -10) return sprintf("%.2f", v)
	return sprintf("%.3f", v)
}

function hsize(s) {
	s += 0
	if (s >= 1073741824 && s % 1073741824 == 0) return (s / 1073741824) "G"
	if (s >= 1048576 && s % 1048576 == 0) return (s / 1048576) "M"
	if (s >= 1024 && s % 1024 == 0) return (s / 1024) "K"
	return s
}

function better(u) {
	return (u == "us" || u == "KiB" || u == "B") ? "lower" : "higher"
}

function ratio(a, b,   r) {
	if (a <= 0 || b <= 0) return "-"
	r = a / b
	if (r >= 100) return sprintf("%.0fx", r)
	if (r >= 10) return sprintf("%.1fx", r)
	if (r >= 0.01) return sprintf("%.2fx", r)
	return sprintf("1/%.0fx", 1 / r)
}

function pad(s, w) {
	return sprintf("%-" w "s", s)
}

function rpad(s, w) {
	return sprintf("%" w "s", s)
}

END {
	np = 0
	for (i = 1; i <= nord; i++)
		if (order[i] in has)
			provs[++np] = order[i]
	npeers = 0
	for (i = 2; i <= np; i++)
		if (provs[i] != "swgpu-huge")
			peers[++npeers] = provs[i]
	huge = ("swgpu-huge" in has)

	printf "swgpu bench on %s (%s, %s CPU, MemTotal %d MiB, %s run, %s, %s s%s)\n",
	       meta["kernel"], meta["machine"], meta["nproc"],
	       meta["memtotal_kib"] / 1024, meta["mode"], meta["date"], meta["elapsed_s"],
	       rev == "" ? "" : ", swgpu " rev
	for (p in provinfo)
		if (provinfo[p] != "yes")
			printf "  %s: %s\n", p, provinfo[p]
	line = pad("figure", 26) pad("size", 6) pad("unit", 9) pad("better", 7)
	for (i = 1; i <= np; i++)
		line = line rpad(provs[i], 15)
	for (i = 1; i <= npeers; i++)
		line = line rpad("swgpu/" peers[i], 15)
	for (i = 1; huge && i <= npeers; i++)
		line = line rpad("huge/" peers[i], 15)
	print line
	for (r = 1; r <= nrows; r++) {
		row = rows[r]
		u = runit[row]
		line = pad(rtest[row], 26) pad(hsize(rsize[row]), 6) pad(u, 9) \
		       pad(u == "" ? "" : better(u), 7)
		for (i = 1; i <= np; i++) {
			c = ((row, provs[i]) in cell) ? cell[row, provs[i]] : ""
			line = line rpad(c, 15)
		}
		for (i = 1; i <= npeers; i++) {
			c = ""
			if (((row, "swgpu") in med) && ((row, peers[i]) in med))
				c = ratio(med[row, "swgpu"], med[row, peers[i]])
			line = line rpad(c, 15)
		}
		for (i = 1; huge && i <= npeers; i++) {
			c = ""
			if (((row, "swgpu-huge") in med) && ((row, peers[i]) in med))
				c = ratio(med[row, "swgpu-huge"], med[row, peers[i]])
			line = line rpad(c, 15)
		}
		print line
	}
	if (anon != "") {
		print "anonymous memory baselines of the stream figures:"
		printf "%s", anon
	}
	if (skips != "") {
		print "skipped:"
		printf "%s", skips
	}
	if (errors != "") {
		print "FAILED operations:"
		printf "%s", errors
	}
	if (meta["end"] != "ok")
		print "the run did not finish cleanly: end=" (meta["end"] == "" ? "missing" : meta["end"])

	if (chart == "")
		exit
	hdr = "figure"
	for (i = 1; i <= npeers; i++)
		hdr = hdr "\tvs " peers[i]
	print hdr > chart
	for (r = 1; r <= nrows; r++) {
		row = rows[r]
		t = rtest[row]
		u = runit[row]
		if (u == "KiB" && t != "create-touch1-mem")
			continue
		if (!((row, "swgpu") in med))
			continue
		line = t " " hsize(rsize[row])
		any = 0
		for (i = 1; i <= npeers; i++) {
			v = "-"
			if ((row, peers[i]) in med) {
				a = med[row, "swgpu"]; b = med[row, peers[i]]
				if (a > 0 && b > 0) {
					v = (better(u) == "lower") ? b / a : a / b
					v = sprintf("%.4f", log(v) / log(10))
					any = 1
				}
			}
			line = line "\t" v
		}
		if (any)
			print line > chart
	}
	close(chart)
}
