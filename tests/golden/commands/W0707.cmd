filmc export FILM --to fcpxml -o OUT/night_shift.fcpxml
