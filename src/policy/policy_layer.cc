// layer policy
