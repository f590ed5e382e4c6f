filmc export FILM --to edl -o OUT/night_shift.edl
