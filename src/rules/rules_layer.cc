// layer rules
