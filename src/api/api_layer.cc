// layer api
