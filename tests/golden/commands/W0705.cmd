filmc export FILM --to aaf -o OUT/night_shift.aaf
