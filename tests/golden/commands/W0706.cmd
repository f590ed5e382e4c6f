filmc export FILM --timeline tests/golden/commands/W0706.otio --to edl -o OUT/night_shift.edl
