module insighttracker/bench/load

go 1.22
