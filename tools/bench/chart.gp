# gnuplot script: swgpu's advantage over each peer, one group of bars per
# figure. Called by tools/bench.sh as
#
#   gnuplot -e "datafile='chart.dat'; outfile='chart.png'; kver='...'" chart.gp
#
# chart.dat (from table.awk): a header line, then "label<TAB>v1<TAB>v2..."
# with v = log10(advantage), "-" when missing. Bars go up where swgpu is
# better than the peer, down where it is behind; the axis is labelled in
# plain factors.
set terminal pngcairo size 1600,800 noenhanced font ",10"
set output outfile
set datafile separator "\t"
set datafile missing "-"
set title sprintf("swgpu vs peers on %s: bar up = swgpu better, down = swgpu behind (log scale)", kver)
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set xtics rotate by 50 right
set ylabel "advantage of swgpu (peer/swgpu for times and memory, swgpu/peer for rates)"
set ytics ("1/100000" -5, "1/10000" -4, "1/1000" -3, "1/100" -2, "1/10" -1, \
	   "1" 0, "10" 1, "100" 2, "1000" 3, "10000" 4, "100000" 5, "1000000" 6)
set mytics 1
set xzeroaxis lt -1 lw 2
set offsets 0, 0, 0.3, 0.3
stats datafile using 0 nooutput
ncols = STATS_columns
plot for [i=2:ncols] datafile using i:xtic(1) title columnheader(i)
