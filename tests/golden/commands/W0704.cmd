filmc export FILM --to fcp7xml -o OUT/night_shift.xml
